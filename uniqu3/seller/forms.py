"""Reading the seller's forms. Only the shape is checked here; the rules are the workflow's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from ..workflow import ParcelDetails, WorkflowError

_QTY_FIELD = re.compile(r"qty_(\d{1,12})")
_INTEGER = re.compile(r"([-\u2212]?)([0-9]+)")  # ASCII digits only: str.isdigit() takes "²"
MAX_QTY_DIGITS = 6


@dataclass
class FormState:
    """What a refused form needs to be shown again: the seller's input and the reasons."""

    name: str = ""  # which form: pay, ship, cancel, receipt-<number>, settings, password
    values: Mapping[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def value(self, form: str, key: str, default: str = "") -> str:
        if form == self.name and key in self.values:
            return self.values[key]
        return default

    def error(self, form: str, key: str) -> str:
        return self.errors.get(key, "") if form == self.name else ""

    def general(self, form: str) -> str:
        return self.message if form == self.name else ""

    @classmethod
    def refused(cls, name: str, values: Mapping[str, str], error: WorkflowError) -> FormState:
        """A workflow refusal: the message goes next to its field when it names one."""
        message = error.translated(_)
        errors = {error.field: message} if error.field else {}
        return cls(name, dict(values), errors, message)


@dataclass
class ShipRequest:
    quantities: dict[int, int]
    parcel: ParcelDetails
    request_key: str | None


def parse_parcel(form: Mapping[str, str], errors: dict[str, str]) -> ParcelDetails:
    """Carrier, tracking and ship date of the ship form and of a parcel's correction; a date
    that is not one goes to `errors`."""
    shipped_on = None
    raw_date = (form.get("shipped_on") or "").strip()
    if raw_date:
        try:
            shipped_on = date.fromisoformat(raw_date)
        except ValueError:
            errors["shipped_on"] = _("Date d'expédition invalide.")
    return ParcelDetails(
        carrier=(form.get("carrier") or "").strip(),
        tracking_number=form.get("tracking_number") or "",
        shipped_on=shipped_on,
        carrier_url=(form.get("carrier_url") or "").strip(),
        carrier_label=(form.get("carrier_label") or "").strip(),
    )


def parse_quantities(form: Mapping[str, str], prefix: str = "qty") -> tuple[dict[int, int], dict[str, str]]:
    """The `<prefix>_<order line id>` fields: each line's quantity, and the fields that are not
    an integer (their reason)."""
    errors: dict[str, str] = {}
    quantities: dict[int, int] = {}
    pattern = _QTY_FIELD if prefix == "qty" else re.compile(rf"{re.escape(prefix)}_(\d{{1,12}})")
    for key, raw in form.items():
        match = pattern.fullmatch(key)
        if not match:
            continue
        text = raw.strip()
        if not text:
            continue
        number = _INTEGER.fullmatch(text)
        if not number:
            errors[key] = _("Quantité invalide : un nombre entier est attendu.")
            continue
        # Any integer goes to the workflow, which says what is wrong with it (negative, more
        # than is left); a huge one is capped, as it is refused the same way.
        sign, digits = number.groups()
        quantity = int(digits) if len(digits.lstrip("0")) <= MAX_QTY_DIGITS else 10**MAX_QTY_DIGITS
        quantities[int(match.group(1))] = -quantity if sign else quantity
    return quantities, errors


def parse_close(form: Mapping[str, str]) -> tuple[dict[int, int], str, str | None, dict[str, str]]:
    """« Clore le reste »: the quantities (`close_<line id>`), the reason, the form's key."""
    quantities, errors = parse_quantities(form, "close")
    return quantities, form.get("reason") or "", _request_key(form), errors


_AMOUNT = re.compile(r"([0-9]{1,7})(?:[.,]([0-9]{1,2}))?")


def parse_amount(raw: str) -> int | None:
    """Euros as a seller types them ('12,50', '12.5', '12', '12,50 €') in cents; None when it
    is not an amount."""
    text = raw.strip().removesuffix("€").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    match = _AMOUNT.fullmatch(text)
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


@dataclass
class RefundRequest:
    amount_cents: int
    method: str
    reference: str
    note: str
    request_key: str | None


def parse_refund(form: Mapping[str, str]) -> tuple[RefundRequest, dict[str, str]]:
    """« Remboursement effectué »: the amount must be an amount; the rest is the workflow's."""
    errors: dict[str, str] = {}
    amount = parse_amount(form.get("amount") or "")
    if amount is None:
        errors["amount"] = _("Montant invalide : par exemple 12,50.")
    return RefundRequest(amount or 0, (form.get("method") or "").strip(), form.get("reference") or "",
                         form.get("note") or "", _request_key(form)), errors


def _request_key(form: Mapping[str, str]) -> str | None:
    raw_key = (form.get("request_key") or "").strip()
    try:
        return str(uuid.UUID(raw_key)) if raw_key else None
    except ValueError:
        return None


def parse_ship(form: Mapping[str, str]) -> tuple[ShipRequest, dict[str, str]]:
    quantities, errors = parse_quantities(form)
    parcel = parse_parcel(form, errors)
    return ShipRequest(quantities=quantities, parcel=parcel, request_key=_request_key(form)), errors
