"""The order's history told as French sentences, one per event kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..labels import handed_over_label, problem_reason, refund_method, shown_carrier
from ..models import OrderEvent
from ..templating import money, paris_date, paris_datetime


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    kind: str
    text: str
    note: str  # free text typed by a person (payment note, cancel reason): shown escaped
    by: str


def _when(raw: Any) -> str:
    try:
        return paris_datetime(datetime.fromisoformat(str(raw)))
    except ValueError:
        return ""


def _day(raw: Any) -> str:
    try:
        return paris_date(date.fromisoformat(str(raw)))
    except ValueError:
        return ""


def _items(raw: Any) -> str:
    if not isinstance(raw, list):
        return ""
    return ", ".join(f"{item.get('sku', '?')} × {item.get('quantity', '?')}"
                     for item in raw if isinstance(item, dict))


def _changes(before: Any, after: Any) -> str:
    """A parcel's corrected values, old → new."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    none = _("aucun")
    parts = []
    if "carrier_label" in after:
        parts.append(_("transporteur %(old)s → %(new)s",
                       old=shown_carrier(str(before.get("carrier_label") or "")),
                       new=shown_carrier(str(after.get("carrier_label") or ""))))
    if "tracking_number" in after:
        parts.append(_("suivi %(old)s → %(new)s", old=before.get("tracking_number") or none,
                       new=after.get("tracking_number") or none))
    elif "tracking_url" in after:
        parts.append(_("page de suivi %(old)s → %(new)s", old=before.get("tracking_url") or none,
                       new=after.get("tracking_url") or none))
    if "shipped_on" in after:
        parts.append(_("date %(old)s → %(new)s", old=_day(before.get("shipped_on")),
                       new=_day(after.get("shipped_on"))))
    return " ; ".join(parts)


def _by(event: OrderEvent) -> str:
    if event.actor == "seller":
        return _("par vous")
    if event.actor == "buyer":
        return _("par le client")
    if event.actor == "system":
        return _("automatiquement")
    if event.actor == "operator":
        return _("par l'équipe UNIQU3APP")
    if event.actor == "api":
        return _("par la marketplace")
    return event.actor


def _text(event: OrderEvent) -> tuple[str, str]:
    d = event.details or {}
    number = d.get("number", "?")
    kind = event.kind
    if kind == "order_placed":
        count = int(d.get("lines") or 0)
        total = money(int(d.get("total_cents") or 0))
        # No full stop after an amount (« 40,40 €. »): the entry's words are a label, not a sentence.
        return ngettext("Commande reçue : %(num)d ligne, %(total)s",
                        "Commande reçue : %(num)d lignes, %(total)s", count, total=total), ""
    if kind == "payment_confirmed":
        # What happened, not the success message the seller saw (« le client en est informé… »).
        return _("Paiement confirmé"), str(d.get("note") or "")
    if kind == "shipped":
        tracking = d.get("tracking_number") or ""
        carrier = shown_carrier(d.get("carrier", ""))
        if handed_over_label(d.get("carrier", "")):
            return _("Colis n° %(number)s remis en main propre le %(day)s : %(items)s.", number=number,
                     day=_day(d.get("shipped_on")), items=_items(d.get("items"))), ""
        if tracking:
            text = _("Colis n° %(number)s expédié le %(day)s avec %(carrier)s, suivi %(tracking)s : "
                     "%(items)s.", number=number, day=_day(d.get("shipped_on")),
                     carrier=carrier, tracking=tracking, items=_items(d.get("items")))
        else:
            text = _("Colis n° %(number)s expédié le %(day)s avec %(carrier)s : %(items)s.",
                     number=number, day=_day(d.get("shipped_on")), carrier=carrier,
                     items=_items(d.get("items")))
        return text, ""
    if kind == "receipt_requested":
        return _("Confirmation de réception demandée au client pour le colis n° %(number)s ; sans réponse, "
                 "il sera marqué reçu automatiquement le %(due)s.", number=number,
                 due=_when(d.get("due_at"))), ""
    if kind == "receipt_confirmed" and d.get("closed_problem"):
        return _("Le client a confirmé la réception du colis n° %(number)s, ce qui clôt le problème signalé.",
                 number=number), ""
    if kind == "receipt_confirmed":
        # Who confirmed (the buyer) and when are the entry's by-line and time; the IP is the proof.
        if d.get("ip"):
            return _("Réception du colis n° %(number)s confirmée, depuis l'adresse IP %(ip)s.",
                     number=number, ip=d["ip"]), ""
        return _("Réception du colis n° %(number)s confirmée.", number=number), ""
    if kind == "auto_received":
        return _("Colis n° %(number)s marqué reçu : le client n'a pas répondu avant l'échéance.",
                 number=number), ""
    if kind == "problem_reported":
        return _("Le client signale un problème sur le colis n° %(number)s : %(reason)s.", number=number,
                 reason=problem_reason(str(d.get("reason") or ""))), str(d.get("message") or "")
    if kind == "seller_message":
        return _("Message envoyé au client au sujet du colis n° %(number)s.", number=number), \
            str(d.get("message") or "")
    if kind == "receipt_relaunched":
        return _("Confirmation de réception demandée de nouveau pour le colis n° %(number)s ; sans réponse, "
                 "il sera marqué reçu automatiquement le %(due)s.", number=number,
                 due=_when(d.get("due_at"))), ""
    if kind == "parcel_lost":
        if d.get("amount_cents"):
            return _("Colis n° %(number)s déclaré perdu : %(items)s à expédier de nouveau, sinon à "
                     "rembourser (%(amount)s).", number=number, items=_items(d.get("items")),
                     amount=money(int(d["amount_cents"]))), ""
        return _("Colis n° %(number)s déclaré perdu : %(items)s de nouveau à expédier.", number=number,
                 items=_items(d.get("items"))), ""
    if kind == "receipt_reminded":
        return _("Rappel envoyé au client pour le colis n° %(number)s (échéance le %(due)s).", number=number,
                 due=_when(d.get("due_at"))), ""
    if kind == "shipment_edited":
        return _("Colis n° %(number)s corrigé : %(changes)s.",
                 number=number, changes=_changes(d.get("before"), d.get("after"))), ""
    if kind == "payment_undone":
        return _("Confirmation du paiement (du %(when)s) annulée.",
                 when=_when(d.get("paid_at"))), str(d.get("reason") or "")
    if kind == "remainder_closed":
        amount = money(int(d.get("amount_cents") or 0))
        if d.get("cancelled"):
            text = _("Reste clos, rien n'étant expédié : commande annulée. Articles non expédiés : %(items)s "
                     "(%(amount)s).", items=_items(d.get("items")),
                     amount=amount)
        else:
            text = _("Reste clos : %(items)s ne seront pas expédiés (%(amount)s).",
                     items=_items(d.get("items")), amount=amount)
        return text, str(d.get("reason") or "")
    if kind == "refund_recorded":
        text = _("Remboursement de %(amount)s enregistré (%(method)s) ; reste à rembourser : %(due)s.",
                 amount=money(int(d.get("amount_cents") or 0)),
                 method=refund_method(str(d.get("method") or "")), due=money(int(d.get("due_cents") or 0)))
        if d.get("reference"):
            text += " " + _("Référence : %(reference)s.", reference=d["reference"])
        return text, str(d.get("note") or "")
    if kind == "cancelled":
        return _("Commande annulée"), str(d.get("reason") or "")
    return kind, ""


def entry(event: OrderEvent) -> Entry:
    text, note = _text(event)
    return Entry(event.id, event.at, event.kind, text, note, _by(event))


def timeline(events: list[OrderEvent]) -> list[Entry]:
    return [entry(event) for event in events]
