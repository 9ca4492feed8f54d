"""Orders: import-orders, sweep, stats."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import intake
from ..extensions import db
from ..json_input import NotJson, decode
from ..labels import STATUS_LABELS
from ..models import OrderStatus, OutboxEmail, OutboxStatus
from ..workflow import Actor, Conflict, counts
from .group import command


def _read_orders(path: str) -> list[Any]:
    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
    except OSError as exc:
        raise click.ClickException(
            _("Impossible de lire %(path)s : %(reason)s", path=path, reason=exc.strerror or str(exc))
        ) from exc
    try:
        data = decode(raw, allow_bom=True)
    except NotJson as exc:
        raise click.ClickException(
            _("%(path)s n'est pas du JSON valide (%(reason)s).", path=path, reason=exc.reason)
        ) from exc
    if not isinstance(data, list):
        raise click.ClickException(_(
            "%(path)s doit contenir un tableau JSON de commandes ([{…}, {…}]), "
            "chacune au format de l'API (POST /api/v1/orders).", path=path,
        ))
    return data


def _label(index: int, body: Any) -> str:
    external_id = body.get("external_id") if isinstance(body, dict) else None
    if isinstance(external_id, str) and external_id.strip():
        return f"#{index} {external_id.strip()[:100]}"
    return f"#{index}"


@command("import-orders")
@click.argument("file", metavar="FILE")
def import_orders(file: str) -> None:
    """Importer des commandes : un tableau JSON de corps d'API, FILE ou - (entrée standard).

    Chaque commande passe par les mêmes contrôles que l'API ; une commande refusée
    n'empêche pas les suivantes. Code de sortie 1 si au moins une est refusée.
    """
    bodies = _read_orders(file)
    if not bodies:
        click.echo(_("Aucune commande dans %(path)s.", path=file))
        return
    created = replayed = refused = 0
    actor = Actor.operator("import-orders")
    for index, body in enumerate(bodies, start=1):
        label = _label(index, body)
        try:
            data = intake.read_order(body, session=db.session())
            submitted = intake.submit(data, actor=actor, source="import")
        except intake.InvalidOrder as exc:
            refused += 1
            click.echo(_("%(label)s : invalide — %(message)s", label=label, message=str(exc.message)))
            for path, messages in exc.fields.items():
                for message in messages:
                    click.echo(f"    {path or '-'} : {message}")
            continue
        except Conflict as exc:
            refused += 1
            click.echo(_("%(label)s : refusée — %(message)s", label=label, message=exc.translated(_)))
            continue
        if submitted.created:
            created += 1
            click.echo(_("%(label)s : créée → %(reference)s", label=label,
                         reference=submitted.order.reference))
        else:
            replayed += 1
            click.echo(_("%(label)s : déjà enregistrée (%(reference)s), rien de changé", label=label,
                         reference=submitted.order.reference))
    click.echo(_("Import terminé : %(created)d créée(s), %(replayed)d déjà enregistrée(s), "
                 "%(refused)d refusée(s).", created=created, replayed=replayed, refused=refused))
    if refused:
        raise click.ClickException(_(
            "%(count)d commande(s) refusée(s) : corrigez-les et relancez l'import "
            "(les commandes déjà enregistrées ne seront pas dupliquées).", count=refused,
        ))


@command("sweep")
def sweep() -> None:
    """Passer maintenant en « Reçu » les colis dont le délai est écoulé (jamais ceux dont le client a
    signalé un problème), envoyer les rappels, les e-mails et les webhooks dus."""
    from ..sweep import run_sweep

    report = run_sweep()
    click.echo(_("Rappels avant l'échéance : %(count)d envoyé(s).", count=report.reminders_sent))
    click.echo(_("Réception automatique : %(count)d colis passé(s) en « Reçu ».",
                 count=report.auto_received))
    click.echo(_("E-mails : %(sent)d envoyé(s), %(retrying)d en attente d'un nouvel essai.",
                 sent=report.emails_sent, retrying=report.emails_retrying))
    click.echo(_("Webhooks : %(delivered)d livré(s), %(retrying)d en attente d'un nouvel essai, "
                 "%(failed)d en échec.", delivered=report.webhooks_delivered,
                 retrying=report.webhooks_retrying, failed=report.webhooks_failed))


@command("stats")
def stats() -> None:
    """Commandes par statut, e-mails en attente et en échec."""
    found = counts.counted(db.session())
    by_status = {status: sum(buckets[status] for buckets in found.values()) for status in OrderStatus}
    click.echo(_("Commandes : %(count)d", count=sum(by_status.values())))
    labels = {status: str(STATUS_LABELS[status]) for status in OrderStatus}
    width = max(len(label) for label in labels.values())
    for status in OrderStatus:
        click.echo(f"  {labels[status].ljust(width)}  {by_status.get(status, 0)}")
    emails = dict(db.session.execute(
        select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
    ).all())
    click.echo(_("E-mails : %(pending)d en attente, %(sending)d en cours d'envoi, "
                 "%(failed)d en échec, %(sent)d envoyé(s).",
                 pending=emails.get(OutboxStatus.PENDING, 0),
                 sending=emails.get(OutboxStatus.SENDING, 0),
                 failed=emails.get(OutboxStatus.FAILED, 0),
                 sent=emails.get(OutboxStatus.SENT, 0)))
    wrong = counts.wrong(db.session(), found)
    if wrong:
        click.echo(_("Compteurs des onglets de « Commandes » inexacts pour %(count)d vendeur(s) : "
                     "flask admin recount les corrige.", count=len(wrong)))
    else:
        click.echo(_("Compteurs des onglets de « Commandes » : exacts."))


@command("recount")
def recount() -> None:
    """Recompter, d'après les commandes, les compteurs des onglets de « Commandes » de chaque
    vendeur (après une modification de la base faite sans l'application)."""
    mended = counts.recount(db.session())
    db.session.commit()
    if mended:
        click.echo(_("Compteurs des onglets de « Commandes » corrigés pour %(count)d vendeur(s).",
                     count=len(mended)))
    else:
        click.echo(_("Compteurs des onglets de « Commandes » : exacts, rien à corriger."))
