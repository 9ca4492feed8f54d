"""What the buyer may see of an order's history: plain sentences, no internals.

Payment notes, the seller's e-mail, the proof's IP address and browser stay on the
seller's side; unknown kinds of events are not shown at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from ..labels import handed_over_label, problem_reason, refund_method, shown_carrier
from ..models import OrderEvent
from ..templating import money


@dataclass(frozen=True)
class Entry:
    at: datetime
    text: str


def buyer_history(events: Iterable[OrderEvent], shop_name: str) -> list[Entry]:
    entries: list[Entry] = []
    for event in events:
        text = _describe(event, shop_name)
        if text:
            entries.append(Entry(event.at, text))
    return entries


def _describe(event: OrderEvent, shop_name: str) -> str | None:
    details = event.details or {}
    number = details.get("number", "")
    if event.kind == "order_placed":
        return _("Commande enregistrée")
    if event.kind == "payment_confirmed":
        return _("Paiement reçu par %(shop)s", shop=shop_name)
    if event.kind == "shipped":
        carrier = shown_carrier(details.get("carrier") or "")
        tracking = details.get("tracking_number") or ""
        if handed_over_label(details.get("carrier") or ""):
            return _("Colis n° %(number)s remis en main propre par %(shop)s", number=number, shop=shop_name)
        if tracking:
            return _("Colis n° %(number)s expédié (%(carrier)s, suivi %(tracking)s)",
                     number=number, carrier=carrier, tracking=tracking)
        return _("Colis n° %(number)s expédié (%(carrier)s)", number=number, carrier=carrier)
    if event.kind == "receipt_requested":
        return _("Confirmation de réception demandée pour le colis n° %(number)s", number=number)
    if event.kind == "receipt_confirmed":
        if details.get("closed_problem"):
            return _("Vous avez confirmé la réception du colis n° %(number)s, ce qui clôt votre signalement",
                     number=number)
        return _("Vous avez confirmé la réception du colis n° %(number)s", number=number)
    if event.kind == "problem_reported":
        return _("Vous avez signalé un problème sur le colis n° %(number)s : %(reason)s", number=number,
                 reason=problem_reason(str(details.get("reason") or "")))
    if event.kind == "seller_message":
        return _("Message de %(shop)s au sujet du colis n° %(number)s", shop=shop_name, number=number)
    if event.kind == "receipt_relaunched":
        return _("Confirmation de réception demandée de nouveau pour le colis n° %(number)s", number=number)
    if event.kind == "parcel_lost":
        return _("Colis n° %(number)s déclaré perdu par %(shop)s : ses articles vous seront expédiés de "
                 "nouveau, ou remboursés", number=number, shop=shop_name)
    if event.kind == "receipt_reminded":
        return _("Rappel envoyé : confirmation de réception du colis n° %(number)s", number=number)
    if event.kind == "auto_received":
        return _("Colis n° %(number)s considéré comme reçu (sans réponse avant l'échéance)",
                 number=number)
    if event.kind == "shipment_edited":
        return _("Informations d'envoi du colis n° %(number)s corrigées par %(shop)s", number=number,
                 shop=shop_name)
    if event.kind == "refund_recorded":
        return _("Remboursement de %(amount)s effectué par %(shop)s (%(method)s)",
                 amount=money(int(details.get("amount_cents") or 0)), shop=shop_name,
                 method=refund_method(str(details.get("method") or "")))
    if event.kind == "payment_undone":
        return _("Paiement finalement pas confirmé par %(shop)s", shop=shop_name)
    if event.kind == "cancelled":
        reason = details.get("reason") or ""
        if reason:
            return _("Commande annulée : %(reason)s", reason=reason)
        return _("Commande annulée")
    return None
