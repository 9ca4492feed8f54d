"""`demo`: load the demo seller and orders (idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask_babel import gettext as _

from .. import demo as demo_data
from ..extensions import db
from ..labels import SHIPMENT_LABELS, STATUS_LABELS
from ..models import OrderStatus, ShipmentStatus
from ..services import now
from .group import command

_SCENARIOS = {
    "awaiting_payment": STATUS_LABELS[OrderStatus.AWAITING_PAYMENT],
    "paid": STATUS_LABELS[OrderStatus.PAID],
    "partial": STATUS_LABELS[OrderStatus.PARTIALLY_SHIPPED],
    "partial_awaiting_receipt": STATUS_LABELS[OrderStatus.PARTIALLY_SHIPPED],
    "shipped": STATUS_LABELS[OrderStatus.SHIPPED],
    "awaiting_receipt": STATUS_LABELS[OrderStatus.SHIPPED],
    "two_parcels_one_received": STATUS_LABELS[OrderStatus.SHIPPED],
    "received_by_buyer": STATUS_LABELS[OrderStatus.RECEIVED],
    "received_two_parcels": STATUS_LABELS[OrderStatus.RECEIVED],
    "received_auto": STATUS_LABELS[OrderStatus.RECEIVED],
    "cancelled": STATUS_LABELS[OrderStatus.CANCELLED],
    "cancelled_after_payment": STATUS_LABELS[OrderStatus.CANCELLED],
    "problem": SHIPMENT_LABELS[ShipmentStatus.PROBLEM],
    "lost_and_reshipped": SHIPMENT_LABELS[ShipmentStatus.LOST],
    "remainder_closed": STATUS_LABELS[OrderStatus.SHIPPED],
}


@command("demo")
def demo() -> None:
    """Charger un vendeur de démonstration et une vingtaine de commandes, dans tous les statuts."""
    password = current_app.config["DEMO_PASSWORD"]

    def created(reference: str, scenario: str) -> None:
        click.echo(_("  %(reference)s  %(status)s", reference=reference, status=str(_SCENARIOS[scenario])))

    report = demo_data.load_demo(
        db.session(), password=password, now=now(),
        auto_receipt_days=current_app.config["AUTO_RECEIPT_DAYS"], on_order=created,
    )
    if report.seller_created:
        click.echo(_("Vendeur de démonstration créé : %(email)s « %(shop)s ».",
                     email=demo_data.DEMO_EMAIL, shop=demo_data.DEMO_SHOP))
    if not report.seller_active:
        raise click.ClickException(_(
            "Le vendeur %(email)s est désactivé : réactivez-le (flask admin activate-seller %(email)s).",
            email=demo_data.DEMO_EMAIL,
        ))
    if report.created:
        click.echo(_("%(count)d commande(s) de démonstration créée(s).", count=len(report.created)))
    else:
        click.echo(_("Les données de démonstration sont déjà chargées : rien de nouveau "
                     "(%(count)d commandes).", count=report.existing))
    base = current_app.config["BASE_URL"]
    click.echo(_("Connectez-vous : %(url)s", url=f"{base}/connexion"))
    click.echo(_("  e-mail : %(email)s", email=demo_data.DEMO_EMAIL))
    if report.seller_created:
        click.echo(_("  mot de passe : %(password)s", password=password))
    else:
        click.echo(_("  mot de passe : %(password)s (s'il n'a pas été changé depuis)", password=password))
