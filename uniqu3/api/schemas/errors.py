"""The error answer every API error has: `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from ...workflow.errors import ALL_CODES
from ..errors import CODES


class ErrorDetail(BaseModel):
    code: Annotated[str, Field(json_schema_extra={"enum": sorted(set(CODES.values()) | ALL_CODES)},
                               description="Stable: what went wrong, for programs. A refusal of "
                                           "the workflow names its rule (`not_paid`…).")]
    message: Annotated[str, Field(description="For people: French, or English with "
                                              "`Accept-Language: en`.")]
    fields: Annotated[dict[str, list[str]], Field(
        description="Per-field messages, by path: `lines[2].quantity`, `buyer.email`.")]


class Error(BaseModel):
    error: ErrorDetail
