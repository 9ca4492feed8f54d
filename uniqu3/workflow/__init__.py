"""The order workflow: statuses, transitions, quantities. The only code that changes orders."""

from . import bulk
from .actions import Result, SweepResult, Workflow
from .errors import Conflict, InvalidInput, InvalidTransition, NotFound, WorkflowError
from .inputs import Actor, Address, LineInput, OrderInput, ParcelChanges, ParcelDetails, PickupPoint
from .status import derive_status

__all__ = [
    "Actor",
    "Address",
    "Conflict",
    "InvalidInput",
    "InvalidTransition",
    "LineInput",
    "NotFound",
    "OrderInput",
    "ParcelChanges",
    "ParcelDetails",
    "PickupPoint",
    "Result",
    "SweepResult",
    "Workflow",
    "WorkflowError",
    "bulk",
    "derive_status",
]
