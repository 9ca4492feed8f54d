"""The error answer every API error has: `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from ..errors import CODES


class ErrorDetail(BaseModel):
    code: Annotated[str, Field(json_schema_extra={"enum": sorted(set(CODES.values()))},
                               description="Stable: what went wrong, for programs.")]
    message: Annotated[str, Field(description="For people: French, or English with "
                                              "`Accept-Language: en`.")]
    fields: Annotated[dict[str, list[str]], Field(
        description="Per-field messages, by path: `lines[2].quantity`, `buyer.email`.")]


class Error(BaseModel):
    error: ErrorDetail
