"""E-mails: `outbox` lists what is waiting or failed, and puts chosen ones back in line."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxEmail, OutboxStatus
from ..services import now
from ..workflow import signals
from .group import command, first_rows, rows_by_id, short, show_rows, when

#: A row left « sending » longer than this was abandoned by a stopped worker: it may be retried.
STALE_CLAIM = timedelta(minutes=15)
_WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)


def _list() -> None:
    rows, total = first_rows(
        select(OutboxEmail).where(OutboxEmail.status.in_([str(s) for s in _WAITING])).order_by(OutboxEmail.id)
    )
    show_rows(
        [_("n°"), _("type"), _("état"), _("destinataire"), _("essais"), _("prochain essai"),
         _("dernière erreur")],
        [[str(r.id), r.kind, r.status, r.to_email, str(r.attempts),
          when(r.next_attempt_at) if r.status != OutboxStatus.FAILED else "—", short(r.last_error)]
         for (r,) in rows],
        empty=_("Aucun e-mail en attente ni en échec."), total=total,
    )


def requeue(ids: tuple[int, ...] | list[int], *, all_failed: bool, now: datetime) -> list[int]:
    """Put these e-mails (and every failed one with `all_failed`) back in line: pending, due now,
    attempts from zero. Refuses, changing nothing, an unknown id, a sent e-mail or one being sent.
    Returns the ids put back, for the caller to announce once committed."""
    chosen: dict[int, OutboxEmail] = {}
    if ids:
        chosen.update(rows_by_id(OutboxEmail, ids,
                                 lambda unknown: _("E-mail(s) introuvable(s) : %(ids)s.", ids=unknown),
                                 lambda row: _not_to_retry(row, now)))
    if all_failed:
        chosen.update({r.id: r for r in db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.FAILED)
        )})
    for row in chosen.values():
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.claimed_at = None
        row.claim_token = None
    db.session.commit()
    return sorted(chosen)


def _not_to_retry(row: OutboxEmail, now: datetime) -> str | None:
    if row.status == OutboxStatus.SENT:
        return _("L'e-mail n° %(id)d est déjà envoyé : rien à réessayer.", id=row.id)
    if (row.status == OutboxStatus.SENDING and row.claimed_at is not None
            and now - row.claimed_at < STALE_CLAIM):
        return _("L'e-mail n° %(id)d est en cours d'envoi.", id=row.id)
    return None


def _retry(ids: tuple[int, ...], all_failed: bool) -> None:
    retried = requeue(ids, all_failed=all_failed, now=now())
    if not retried:
        click.echo(_("Aucun e-mail en échec à réessayer."))
        return
    # The jobs layer listens and delivers them (inline without Redis).
    signals.emails_queued.send(None, ids=retried)
    click.echo(_("%(count)d e-mail(s) remis en file d'envoi : %(ids)s.",
                 count=len(retried), ids=", ".join(map(str, retried))))


@command("outbox")
@click.option("--retry", "retry_ids", type=int, multiple=True, metavar="ID",
              help="Remettre cet e-mail en file d'envoi (option répétable).")
@click.option("--retry-failed", is_flag=True, help="Remettre en file d'envoi tous les e-mails en échec.")
def outbox(retry_ids: tuple[int, ...], retry_failed: bool) -> None:
    """Lister les e-mails en attente et en échec ; --retry ID ou --retry-failed pour les renvoyer."""
    if retry_ids or retry_failed:
        _retry(retry_ids, retry_failed)
    else:
        _list()
