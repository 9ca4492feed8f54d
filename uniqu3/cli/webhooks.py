"""Webhooks: create-webhook, list-webhooks, delete-webhook, webhook-deliveries."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent
from ..security import storable_id
from ..services import now
from ..webhooks import delivery
from ..webhooks.addresses import UnsafeUrl
from ..webhooks.endpoints import UnknownEventType, create_endpoint, delete_endpoint
from ..webhooks.events import EVENT_TYPES
from ..workflow import signals
from .group import command, first_rows, rows_by_id, short, show_rows, show_secret, when
from .sellers import find_seller

_WAITING = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING, WebhookDeliveryStatus.FAILED)


@command("create-webhook")
@click.argument("url")
@click.option("--seller", "seller_email", metavar="EMAIL",
              help="Seulement les événements des commandes de ce vendeur (sinon : tous les vendeurs).")
@click.option("--event", "event_types", metavar="TYPE", multiple=True,
              help="Seulement ce type d'événement (option répétable ; sinon : tous). "
                   f"Types : {', '.join(EVENT_TYPES)}.")
def create_webhook(url: str, seller_email: str | None, event_types: tuple[str, ...]) -> None:
    """Enregistrer un point de réception des webhooks : son secret est affiché une seule fois,
    sur la dernière ligne."""
    seller = find_seller(seller_email) if seller_email is not None else None
    try:
        endpoint = create_endpoint(db.session(), url, seller=seller, event_types=event_types,
                                   allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except UnknownEventType as exc:
        raise click.ClickException(_("Type d'événement inconnu : %(names)s. Types : %(types)s.",
                                     names=", ".join(exc.names), types=", ".join(EVENT_TYPES))) from exc
    except UnsafeUrl as exc:
        raise click.ClickException(_(exc.template, **exc.params)) from exc
    if seller is not None:
        click.echo(_("Point de réception n° %(id)d créé pour les commandes du vendeur %(email)s : %(url)s",
                     id=endpoint.id, email=seller.email, url=endpoint.url))
    else:
        click.echo(_("Point de réception n° %(id)d créé pour les commandes de tous les vendeurs : %(url)s",
                     id=endpoint.id, url=endpoint.url))
    click.echo(_("Événements : %(types)s.", types=_types(endpoint.event_types)))
    show_secret(_("Copiez le secret de signature maintenant : il ne sera plus jamais affiché."),
                endpoint.secret)


def _types(types: list[str]) -> str:
    return ", ".join(types) if types else _("tous")


@command("list-webhooks")
def list_webhooks() -> None:
    """Lister les points de réception, avec leur dernière livraison et leurs échecs."""
    endpoints = db.session.scalars(
        select(WebhookEndpoint).options(joinedload(WebhookEndpoint.seller)).order_by(WebhookEndpoint.id)
    ).all()
    counts: dict[tuple[int, str], int] = {
        (endpoint_id, str(status)): count for endpoint_id, status, count in db.session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status))
    }
    last = {row.endpoint_id: row for row in db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, WebhookDelivery.last_attempt_at,
               WebhookDelivery.last_status_code)
        .where(WebhookDelivery.id.in_(
            select(func.max(WebhookDelivery.id)).where(WebhookDelivery.last_attempt_at.is_not(None))
            .group_by(WebhookDelivery.endpoint_id))))}
    rows = []
    for endpoint in endpoints:
        latest = last.get(endpoint.id)
        rows.append([
            str(endpoint.id),
            endpoint.url,
            endpoint.seller.email if endpoint.seller is not None else _("(tous les vendeurs)"),
            _types(endpoint.event_types),
            _("actif") if endpoint.active else _("désactivé le %(when)s (%(reason)s)",
                                                  when=when(endpoint.disabled_at),
                                                  reason=endpoint.disabled_reason),
            _outcome(latest.status, latest.last_status_code, latest.last_attempt_at) if latest else "—",
            str(counts.get((endpoint.id, WebhookDeliveryStatus.PENDING.value), 0)
                + counts.get((endpoint.id, WebhookDeliveryStatus.SENDING.value), 0)),
            str(counts.get((endpoint.id, WebhookDeliveryStatus.FAILED.value), 0)),
        ])
    show_rows([_("n°"), _("URL"), _("vendeur"), _("événements"), _("état"),
               _("dernière livraison"), _("en attente"), _("échecs")], rows,
              empty=_("Aucun point de réception. Créez-en un : flask admin create-webhook URL"))


def _outcome(status: str, code: int | None, at: datetime | None) -> str:
    answer = str(code) if code is not None else _("sans réponse")
    if status == WebhookDeliveryStatus.DELIVERED:
        return _("%(when)s, reçue (%(code)s)", when=when(at), code=answer)
    return _("%(when)s, échec (%(code)s)", when=when(at), code=answer)


@command("delete-webhook")
@click.argument("endpoint_id", type=int, metavar="ID")
def delete_webhook(endpoint_id: int) -> None:
    """Supprimer un point de réception (ses livraisons en attente ne seront pas envoyées)."""
    if not storable_id(endpoint_id) or not delete_endpoint(db.session(), endpoint_id):
        raise click.ClickException(_("Aucun point de réception n° %(id)d.", id=endpoint_id))
    click.echo(_("Point de réception n° %(id)d supprimé : il ne reçoit plus rien.", id=endpoint_id))


@command("webhook-deliveries")
@click.option("--retry", "retry_ids", type=int, multiple=True, metavar="ID",
              help="Remettre cette livraison en file d'envoi (option répétable).")
def webhook_deliveries(retry_ids: tuple[int, ...]) -> None:
    """Lister les livraisons de webhooks en attente et en échec ; --retry ID pour en renvoyer une."""
    if retry_ids:
        _retry(retry_ids)
    else:
        _list()


def _list() -> None:
    rows, total = first_rows(
        select(WebhookDelivery, WebhookEvent.type, WebhookEvent.message_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status.in_([str(s) for s in _WAITING])).order_by(WebhookDelivery.id)
    )
    show_rows(
        [_("n°"), _("point"), _("événement"), _("webhook-id"), _("état"), _("essais"),
         _("prochain essai"), _("dernière erreur")],
        [[str(d.id), str(d.endpoint_id), event_type, message_id, d.status, str(d.attempts),
          when(d.next_attempt_at) if d.status == WebhookDeliveryStatus.PENDING else "—", short(d.last_error)]
         for d, event_type, message_id in rows],
        empty=_("Aucune livraison de webhook en attente ni en échec."), total=total,
    )


def _not_to_retry(row: WebhookDelivery) -> str | None:
    if row.status == WebhookDeliveryStatus.DELIVERED:
        return _("La livraison n° %(id)d est déjà reçue : rien à réessayer.", id=row.id)
    if row.status == WebhookDeliveryStatus.SENDING:
        return _("La livraison n° %(id)d est en cours d'envoi.", id=row.id)
    return None


def _retry(ids: tuple[int, ...]) -> None:
    found = rows_by_id(WebhookDelivery, ids,
                       lambda unknown: _("Livraison(s) introuvable(s) : %(ids)s.", ids=unknown),
                       _not_to_retry)
    db.session.rollback()
    retried = delivery.retry(sorted(found), now=now())
    # The jobs layer listens and delivers them (inline without Redis).
    signals.webhooks_queued.send(None, ids=retried)
    click.echo(_("%(count)d livraison(s) remise(s) en file d'envoi : %(ids)s.",
                 count=len(retried), ids=", ".join(map(str, retried))))
