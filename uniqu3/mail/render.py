"""Render the e-mails E1–E8 (subject, text part, HTML part) from the database and the row's data.

An e-mail is rendered when it is sent: the order as it is now, plus the facts the
workflow captured at the time in `OutboxEmail.data` (what was still to ship, the
deadline, the time of receipt). The recipient's language is the row's `locale`.

Rendering is most of the cost of sending an e-mail: the templates go through an environment
of their own per language (environment.py), and amounts and dates are formatted once per
value and language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

from .. import carriers
from ..addresses import address_lines, same_address
from ..extensions import db
from ..labels import problem_reason, refund_method, shown_carrier
from ..language_templates import language_environment
from ..models import EmailKind, Order, OutboxEmail, Seller, Shipment, ShipmentStatus
from ..money import format_money
from ..templating import long_date, long_datetime
from ..workflow import rules
from ..workflow.loading import load_order
from . import links
from .text import after_que, one_line

TEMPLATES: dict[str, str] = {
    EmailKind.NEW_ORDER_SELLER: "e1_new_order",
    EmailKind.ORDER_RECORDED_BUYER: "e2_order_recorded",
    EmailKind.PAYMENT_RECEIVED_BUYER: "e3_payment_received",
    EmailKind.SHIPPED_BUYER: "e4_shipped",
    EmailKind.CONFIRM_RECEIPT_BUYER: "e5_confirm_receipt",
    EmailKind.RECEIPT_CONFIRMED_SELLER: "e6_receipt_confirmed",
    EmailKind.AUTO_RECEIVED: "e7_auto_received",
    EmailKind.CANCELLED_BUYER: "e8_cancelled",
    EmailKind.RECEIPT_REMINDER_BUYER: "e5r_receipt_reminder",
    EmailKind.PROBLEM_REPORTED_SELLER: "p1_problem_reported",
    EmailKind.PROBLEM_RECORDED_BUYER: "p2_problem_recorded",
    EmailKind.SELLER_MESSAGE_BUYER: "p3_seller_message",
    EmailKind.PARCEL_LOST_BUYER: "p4_parcel_lost",
    EmailKind.PARCEL_UPDATED_BUYER: "e4u_parcel_updated",
    EmailKind.PAYMENT_UNDONE_BUYER: "e3u_payment_undone",
    EmailKind.REMAINDER_CLOSED_BUYER: "c1_remainder_closed",
    EmailKind.REFUND_RECORDED_BUYER: "r1_refund_recorded",
    EmailKind.PASSWORD_RESET: "a1_password_reset",
    EmailKind.PASSWORD_CHANGED: "a2_password_changed",
}

#: E-mails about the seller's account: no order, the seller named in the row's data.
ACCOUNT_KINDS = frozenset({EmailKind.PASSWORD_RESET, EmailKind.PASSWORD_CHANGED})

_PARCEL_KINDS = {
    EmailKind.SHIPPED_BUYER,
    EmailKind.CONFIRM_RECEIPT_BUYER,
    EmailKind.RECEIPT_CONFIRMED_SELLER,
    EmailKind.AUTO_RECEIVED,
    EmailKind.RECEIPT_REMINDER_BUYER,
    EmailKind.PROBLEM_REPORTED_SELLER,
    EmailKind.PROBLEM_RECORDED_BUYER,
    EmailKind.SELLER_MESSAGE_BUYER,
    EmailKind.PARCEL_LOST_BUYER,
    EmailKind.PARCEL_UPDATED_BUYER,
}


class MissingData(Exception):
    """The order or parcel this e-mail is about no longer exists: it can never be rendered."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Item:
    sku: str
    title: str
    quantity: int


def render_email(row: OutboxEmail, order: Order | None = None) -> RenderedEmail:
    """Subject, text and HTML of one outbox row, in the row's language."""
    return render_parts(*email_context(row, order))


def render_parts(name: str, context: dict[str, Any]) -> RenderedEmail:
    """The text and HTML templates `email/<name>` rendered with `context` (email_context's)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    env = language_environment(app, context["current_locale"])
    text = tidy_text(env.get_template(f"email/{name}.txt").render(context))
    html = env.get_template(f"email/{name}.html").render(context)
    return RenderedEmail(subject=context["subject"], text=text, html=html)


def email_context(row: OutboxEmail, order: Order | None = None) -> tuple[str, dict[str, Any]]:
    """The template (e.g. `e1_new_order`, for `email/<name>.txt` and `.html`) and its values,
    the subject included; raises MissingData when the order or parcel is gone."""
    if row.kind in ACCOUNT_KINDS:
        return _account_context(row)
    if order is None and row.order_id is not None:
        order = load_order(db.session, order_id=row.order_id, seller=True)
    if order is None:
        raise MissingData(f"La commande de l'e-mail {row.id} n'existe plus.")
    name = TEMPLATES.get(row.kind)
    if name is None:
        raise MissingData(f"Type d'e-mail inconnu : {row.kind!r}.")
    shipment = None
    if row.kind in _PARCEL_KINDS:
        shipment_id = row.shipment_id or (row.data or {}).get("shipment_id")
        shipment = next((s for s in order.shipments if s.id == shipment_id), None)
        if shipment is None:
            raise MissingData(f"Le colis de l'e-mail {row.id} n'existe plus.")
    locale = row.locale or "fr"
    with force_locale(locale):  # the subject's and the dates' gettext
        context = _context(row, order, shipment, locale)
        context["subject"] = SUBJECTS[row.kind](context)
    return name, context


# ----------------------------------------------------------------------------- context
def _account_context(row: OutboxEmail) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = dict(row.data or {})
    seller = db.session.get(Seller, int(data.get("seller_id") or 0))
    if seller is None:
        raise MissingData(f"Le vendeur de l'e-mail {row.id} n'existe plus.")
    locale = row.locale or "fr"
    with force_locale(locale):
        context: dict[str, Any] = {
            "current_locale": locale,
            "kind": row.kind,
            "role": "seller",
            "seller": seller,
            "shop_name": one_line(seller.shop_name, 120),
            "reference": "",
            "email": seller.email,
            "login_url": links.login_url(),
            "reset_url": SignedLink(lambda seller_id: links.password_reset_url(
                seller_id, str(data.get("fingerprint") or "")), seller.id),
            "requested_at": _when(data.get("requested_at"), locale),
            "how": data.get("how") or "reset",
        }
        context["subject"] = SUBJECTS[row.kind](context)
    return TEMPLATES[row.kind], context


def _context(row: OutboxEmail, order: Order, shipment: Shipment | None, locale: str) -> dict[str, Any]:
    seller: Seller = order.seller
    data: dict[str, Any] = dict(row.data or {})
    currency = order.currency
    context: dict[str, Any] = {
        "current_locale": locale,
        "kind": row.kind,
        "role": row.recipient_role,
        "order": order,
        "seller": seller,
        "shop_name": one_line(seller.shop_name, 120),
        "que_shop": after_que(one_line(seller.shop_name, 120), locale),
        "reference": order.reference,
        "buyer_name": one_line(order.buyer_name, 200),
        "lines": order.lines,
        "total": money(order.total_cents, currency, locale),
        "price": lambda cents: money(cents, currency, locale),
        "billing": address_lines(order.billing_address, locale),
        "shipping": delivery_lines(order, locale),
        "items_total": money(order.items_cents, currency, locale),
        # Shown only when the buyer pays for it.
        "shipping_price": money(order.shipping_cents, currency, locale) if order.shipping_cents else "",
        "buyer_phone": order.buyer_phone or "",
        "same_addresses": same_address(order.billing_address, order.shipping_address),
        "order_url": SignedLink(links.buyer_order_url, order.id),
        "dashboard_url": links.seller_order_url(order.reference),
        "placed_on": long_date(order.created_at, locale),
        "remaining": [Item(str(i.get("sku", "")), str(i.get("title", "")), int(i.get("quantity", 0)))
                      for i in data.get("remaining") or []],
        "due_at": _when(data.get("due_at"), locale),
        "received_at": _when(data.get("received_at"), locale),
        "shipment": shipment,
        "order_done": all(s.received_at is not None for s in order.shipments)
        and all(line.remaining == 0 for line in order.lines),
        "still_to_ship": [Item(line.sku, line.title, line.remaining)
                          for line in order.lines if line.remaining > 0],
        # The seller's follow-up after a receipt: parcels still to activate, or still awaited.
        "parcels_to_activate": [s.number for s in order.shipments if s.status == ShipmentStatus.SHIPPED],
        "parcels_waiting": [s.number for s in order.shipments
                            if s.status == ShipmentStatus.AWAITING_RECEIPT],
        # A report's and a seller's words (typed by a person: escaped, line breaks kept).
        "problem_reason": problem_reason(str(data.get("reason") or "")),
        "problem_message": str(data.get("message") or ""),
        "seller_note": str(data.get("note") or ""),
        "reported_at": _when(data.get("reported_at"), locale),
        "lost_items": [Item(str(i.get("sku", "")), str(i.get("title", "")), int(i.get("quantity", 0)))
                       for i in data.get("items") or []],
        # « Clore le reste »: the items as closed then (the same `items` list as a lost parcel's).
        "closed_items": [Item(str(i.get("sku", "")), str(i.get("title", "")), int(i.get("quantity", 0)))
                         for i in data.get("items") or []],
        "closed_amount": money(int(data.get("amount_cents") or 0), currency, locale),
        # A lost parcel's items: shipped again, or refunded (older P4 rows have no amount).
        "lost_amount": money(int(data["amount_cents"]), currency, locale) if data.get("amount_cents") else "",
        "closed_refund": money(int(data.get("refund_cents") or 0), currency, locale),
        "closed_reason": str(data.get("reason") or ""),
        "closed_cancels": bool(data.get("cancelled")),
        # What E8 tells a paid order's buyer will be refunded; what R1 says was refunded.
        "cancel_refund": (money(int(data["refund_cents"]), currency, locale) if data.get("refund_cents")
                          else ""),
        "refund_amount": money(int(data.get("amount_cents") or 0), currency, locale),
        "refund_method": refund_method(str(data.get("method") or "")),
        "refund_reference": str(data.get("reference") or ""),
        "refunded_total": money(int(data.get("refunded_cents") or 0), currency, locale),
        "refund_left": money(int(data["due_cents"]), currency, locale) if data.get("due_cents") else "",
    }
    if shipment is not None:
        context.update(
            parcel_items=[Item(line.sku, line.title, quantity) for line, quantity in shipment.items],
            carrier_label=shown_carrier(shipment.carrier_label or _carrier_name(shipment.carrier)),
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
            shipped_on=long_date(shipment.shipped_on, locale),
            receipt_url=SignedLink(links.receipt_url, shipment.id),
            problem_url=SignedLink(links.problem_url, shipment.id),
            proof_url=links.seller_proof_url(order.reference, shipment.number),
            # The buyer's page has the same words on its button (« J'ai bien reçu ce colis »).
            multi_parcel=rules.in_several_parcels(order),
        )
    return context


class SignedLink:
    """A buyer's signed link, signed when a template first shows it: signing costs as much as
    a tenth of the e-mail, and the seller's e-mails show none."""

    __slots__ = ("_id", "_make", "_url")

    def __init__(self, make: Callable[[int], str], target_id: int) -> None:
        self._make, self._id = make, target_id
        self._url: str | None = None

    def __str__(self) -> str:
        if self._url is None:
            self._url = self._make(self._id)
        return self._url

    def __html__(self) -> str:
        return str(escape(str(self)))


def _carrier_name(code: str) -> str:
    try:
        return carriers.get_carrier(code).name
    except carriers.UnknownCarrier:
        return code


@lru_cache(maxsize=4096)
def _money(cents: int, currency: str, locale: str) -> str:
    # E1 and E2 of an order, text and HTML, show the same amounts: formatted once.
    return format_money(cents, currency, locale)


def money(cents: int | None, currency: str, locale: str) -> str:
    return "" if cents is None else _money(cents, currency, locale)


def delivery_lines(order: Order, locale: str) -> list[str]:
    """Where the parcel goes, as written on it: the pickup point the buyer chose (for the
    buyer, at the point), else the shipping address."""
    point = order.pickup_point
    if not point:
        return address_lines(order.shipping_address, locale)
    heading = _("Point relais %(carrier)s n° %(id)s", carrier=point.get("carrier", ""),
                id=point.get("id", ""))
    return [order.buyer_name, heading, *address_lines(point, locale)]


def _when(raw: str | None, locale: str) -> str:
    if not raw:
        return ""
    try:
        moment = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return ""
    return long_datetime(moment, locale)


# ----------------------------------------------------------------------------- subjects
def _shipped_subject(c: dict[str, Any]) -> str:
    if c["shipment"].handed_over:
        if c["multi_parcel"]:
            return _("Colis n° %(number)s remis en main propre — commande %(ref)s",
                     number=c["shipment"].number,
                     ref=c["reference"])
        return _("Votre commande %(ref)s vous a été remise", ref=c["reference"])
    if c["multi_parcel"]:
        return _("Colis n° %(number)s expédié — commande %(ref)s", number=c["shipment"].number,
                 ref=c["reference"])
    return _("Votre commande %(ref)s est expédiée", ref=c["reference"])


def _auto_subject(c: dict[str, Any]) -> str:
    if c["role"] == "seller":
        return _("Colis marqué reçu automatiquement — commande %(ref)s", ref=c["reference"])
    return _("Colis considéré comme reçu — commande %(ref)s", ref=c["reference"])


SUBJECTS: dict[str, Callable[[dict[str, Any]], str]] = {
    EmailKind.NEW_ORDER_SELLER: lambda c: _("Nouvelle commande %(ref)s", ref=c["reference"]),
    EmailKind.ORDER_RECORDED_BUYER: lambda c: _(
        "Votre commande %(ref)s chez %(shop)s est enregistrée", ref=c["reference"], shop=c["shop_name"]
    ),
    EmailKind.PAYMENT_RECEIVED_BUYER: lambda c: _(
        "Paiement reçu — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.SHIPPED_BUYER: _shipped_subject,
    EmailKind.CONFIRM_RECEIPT_BUYER: lambda c: _(
        "Confirmez la réception de votre commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.RECEIPT_CONFIRMED_SELLER: lambda c: _(
        "Réception confirmée par le client — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.AUTO_RECEIVED: _auto_subject,
    EmailKind.CANCELLED_BUYER: lambda c: _("Commande %(ref)s annulée", ref=c["reference"]),
    EmailKind.RECEIPT_REMINDER_BUYER: lambda c: _(
        "Rappel : confirmez la réception de votre commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.PROBLEM_REPORTED_SELLER: lambda c: _(
        "Problème signalé par le client — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.PROBLEM_RECORDED_BUYER: lambda c: _(
        "Votre signalement est transmis — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.SELLER_MESSAGE_BUYER: lambda c: _(
        "Message de %(shop)s — commande %(ref)s", shop=c["shop_name"], ref=c["reference"]
    ),
    EmailKind.PARCEL_LOST_BUYER: lambda c: _(
        "Colis n° %(number)s déclaré perdu — commande %(ref)s", number=c["shipment"].number,
        ref=c["reference"]
    ),
    EmailKind.PARCEL_UPDATED_BUYER: lambda c: _(
        "Suivi de votre colis mis à jour — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.PAYMENT_UNDONE_BUYER: lambda c: _(
        "Paiement pas encore confirmé — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.REMAINDER_CLOSED_BUYER: lambda c: (
        _("Commande %(ref)s annulée", ref=c["reference"]) if c["closed_cancels"]
        else _("Articles non expédiés — commande %(ref)s", ref=c["reference"])
    ),
    EmailKind.REFUND_RECORDED_BUYER: lambda c: _(
        "Remboursement effectué — commande %(ref)s", ref=c["reference"]
    ),
    EmailKind.PASSWORD_RESET: lambda c: _(
        "Choisissez un nouveau mot de passe — %(shop)s", shop=c["shop_name"]
    ),
    EmailKind.PASSWORD_CHANGED: lambda c: _(
        "Votre mot de passe a été changé — %(shop)s", shop=c["shop_name"]
    ),
}


# ----------------------------------------------------------------------------- text
_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Template output to a clean text part: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"
