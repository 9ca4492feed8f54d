"""What the order page and its htmx parts need to render."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from .. import carriers, receipt_proof
from ..extensions import db
from ..labels import PROBLEM_REASONS, REFUND_METHODS, STATUS_LABELS, carrier_name, shipment_label
from ..models import Order, OrderStatus
from ..money import cents_to_decimal_str
from ..services import now
from ..timeutil import paris_today
from ..workflow import refunds, rules
from . import history
from .forms import FormState


@dataclass(frozen=True)
class CarrierChoice:
    code: str
    name: str
    postage_url: str | None


def carrier_choices() -> list[CarrierChoice]:
    return [CarrierChoice(c.code, carrier_name(c.code, c.name), c.postage_url)
            for c in carriers.all_carriers()]


@dataclass(frozen=True)
class Preview:
    """The tracking link the buyer will get, as the seller types."""

    kind: str  # link, none, error, empty
    text: str
    url: str = ""


def tracking_preview(code: str, number: str, custom_url: str = "") -> Preview:
    try:
        carrier = carriers.get_carrier(code)
    except carriers.UnknownCarrier:
        return Preview("error", _("Choisissez un transporteur de la liste."))
    if not carrier.tracked:
        return Preview("none", _("Remise en main propre : pas de numéro ni de lien de suivi."))
    if not (number or "").strip():
        return Preview("empty", _("Saisissez le numéro de suivi : le lien envoyé au client s'affichera ici."))
    try:
        normalized = carriers.check_tracking_number(carrier, number)
    except carriers.InvalidTrackingNumber as exc:
        return Preview("error", exc.translated(_))
    url = carriers.tracking_url(carrier, normalized, custom_url or None)
    if not url:
        return Preview("none", _("Pas de lien de suivi : le client recevra le numéro %(number)s.",
                                 number=normalized))
    return Preview("link", _("Lien de suivi envoyé au client :"), url)


def default_carrier(order: Order) -> str:
    return order.shipments[-1].carrier if order.shipments else carriers.all_carriers()[0].code


SHIP_FIELDS = ("carrier", "carrier_label", "carrier_url", "tracking_number", "shipped_on")


def _point_to_fields(order: Order, state: FormState) -> None:
    """When every reason sits next to its field, the top of the form only points to them."""
    if state.name != "ship" or not state.errors:
        return
    shown = {f"qty_{line.id}" for line in order.lines if line.remaining} | set(SHIP_FIELDS)
    if set(state.errors) <= shown:
        state.message = ngettext("Le colis n'a pas été enregistré : corrigez le champ signalé.",
                                 "Le colis n'a pas été enregistré : corrigez les champs signalés.",
                                 len(state.errors))


def decimal_amount(cents: int, locale: str) -> str:
    """An amount as a seller types it in a form: '12,50' in French, '12.50' in English."""
    text = cents_to_decimal_str(cents)
    return text if locale.startswith("en") else text.replace(".", ",")


def receipts_at_top(status: str, open_problems: int) -> bool:
    """All is shipped and no problem waits: each parcel's « Activer la confirmation de
    réception » is a primary button of « Prochaine étape » and the parcel points there;
    otherwise each parcel carries its own."""
    return status == OrderStatus.SHIPPED and not open_problems


def order_context(order: Order, state: FormState | None = None, **extra: Any) -> dict[str, Any]:
    """Everything the order page's macros read. One query beyond the loaded order, and only
    when it has parcels: the e-mails of their proofs of receipt."""
    state = state or FormState()
    _point_to_fields(order, state)
    today = paris_today(now())
    carrier_code = state.value("ship", "carrier", default_carrier(order))
    if state.error("ship", "tracking_number"):
        # A refused number is explained next to its field, not a second time in the preview.
        preview = Preview("empty",
                          _("Corrigez le numéro de suivi : le lien envoyé au client s'affichera ici."))
    else:
        preview = tracking_preview(carrier_code, state.value("ship", "tracking_number"),
                                   state.value("ship", "carrier_url"))
    money = refunds.money_of(order)
    context: dict[str, Any] = {
        "order": order,
        "state": state,
        "labels": STATUS_LABELS,
        "timeline": history.timeline(order.events),
        "proofs": receipt_proof.proofs(db.session, order.shipments),
        "carriers": carrier_choices(),
        "carrier_code": carrier_code,
        "preview": preview,
        "today": today.isoformat(),
        "request_key": state.value("ship", "request_key") or str(uuid.uuid4()),
        "auto_days": current_app.config["AUTO_RECEIPT_DAYS"],
        "problem_reasons": PROBLEM_REASONS,
        "message_max": rules.MESSAGE_MAX,
        # A fresh one-time key per page: a message form sent twice is sent once.
        "message_key": str(uuid.uuid4()),
        "can_cancel": rules.can_cancel(order),
        "can_ship": rules.can_ship(order),
        "can_undo_payment": rules.can_undo_payment(order),
        "can_edit_parcel": rules.can_edit_parcel,
        "shipment_label": shipment_label,
        "can_close": rules.can_close(order),
        "receipts_in_next": receipts_at_top(order.status, order.open_problems),
        "focus_receipts": False,
        "close_key": state.value("close", "request_key") or str(uuid.uuid4()),
        "money": money,
        "refund_due": bool(money.due_cents),  # « Remboursement effectué » is offered
        "refund_methods": REFUND_METHODS,
        "refund_key": state.value("refund", "request_key") or str(uuid.uuid4()),
        "refund_amount": state.value("refund", "amount", decimal_amount(money.due_cents, str(get_locale()))),
        "parts": (),
        "new_entries": [],
        "new_shipment": None,
        "message": "",
        "refused": bool(state.name),
    }
    context.update(extra)
    return context
