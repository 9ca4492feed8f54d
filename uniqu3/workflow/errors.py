"""Refusals of the workflow. Each carries a stable code and a message a seller can read.

Messages are French (the product's language); the web layer may translate them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..carriers import translate_params


class WorkflowError(Exception):
    """`template` is a French message with %(name)s placeholders filled from `params`;
    `message` is the French text, `translated(gettext)` the text in the reader's language."""

    code = "refused"

    def __init__(
        self, template: str, *, field: str | None = None, code: str | None = None, **params: Any
    ) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)
        self.field = field
        if code:
            self.code = code

    def translated(self, gettext: Callable[..., str]) -> str:
        # A value may be a message of its own (a carrier's number hint): translated too.
        return gettext(self.template, **translate_params(self.params, gettext))

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
