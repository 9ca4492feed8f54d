"""Refusals of the workflow. Each carries a stable code and a message a seller can read.

Messages are French (the product's language); the web layer may translate them.
"""

from __future__ import annotations


class WorkflowError(Exception):
    code = "refused"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


class NotFound(WorkflowError):
    code = "not_found"


class InvalidTransition(WorkflowError):
    """The order or parcel is not in a state that allows this action."""

    code = "invalid_transition"


class InvalidInput(WorkflowError):
    """A value given to the action is refused (quantity, date, tracking number…)."""

    code = "invalid_input"


class Conflict(WorkflowError):
    """The same marketplace order id came again with a different content."""

    code = "conflict"
