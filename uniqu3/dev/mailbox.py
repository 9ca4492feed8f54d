"""`/dev/mailbox`: the e-mails of the outbox, readable in the browser (DEV_MAILBOX only).

The HTML part is served from its own URL with a strict, sandboxing CSP and shown in a
sandboxed iframe: the e-mail's inline styles work there, its content can run nothing,
and its links open in a new tab. In production (DEV_MAILBOX false) every route is a 404.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import load_only

from ..extensions import db
from ..mail import MissingData, RenderedEmail, render_email
from ..models import OutboxEmail

bp = Blueprint("dev", __name__, url_prefix="/dev")

LIST_LIMIT = 200
_URL = re.compile(r"https?://[^\s<>\"']+")

KINDS = {
    "E1": _l("Nouvelle commande (vendeur)"),
    "E2": _l("Commande enregistrée (client)"),
    "E3": _l("Paiement reçu (client)"),
    "E4": _l("Colis expédié (client)"),
    "E5": _l("Confirmez la réception (client)"),
    "E6": _l("Réception confirmée (vendeur)"),
    "E7": _l("Reçu automatiquement (vendeur et client)"),
    "E8": _l("Commande annulée (client)"),
    "C1": _l("Articles non expédiés (client)"),
    "R1": _l("Remboursement effectué (client)"),
    "A1": _l("Mot de passe oublié (vendeur)"),
    "A2": _l("Mot de passe changé (vendeur)"),
}

STATUSES = {
    "pending": _l("en attente"),
    "sending": _l("en cours d'envoi"),
    "sent": _l("envoyé"),
    "failed": _l("échec"),
}

# The e-mail's HTML may style itself inline and nothing else; it is framed by our page only.
RAW_CSP = "; ".join([
    "sandbox allow-popups allow-popups-to-escape-sandbox",
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
])


@bp.before_request
def _only_when_enabled() -> None:
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mailbox")
def mailbox() -> str:
    rows = db.session.scalars(
        select(OutboxEmail)
        .options(load_only(OutboxEmail.id, OutboxEmail.kind, OutboxEmail.to_email, OutboxEmail.to_name,
                           OutboxEmail.recipient_role, OutboxEmail.subject, OutboxEmail.status,
                           OutboxEmail.created_at, OutboxEmail.sent_at))
        .order_by(OutboxEmail.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return render_template("dev/mailbox.html", rows=rows, kinds=KINDS, statuses=STATUSES, limit=LIST_LIMIT)


@bp.get("/mailbox/<int:email_id>")
def message(email_id: int) -> str:
    row = db.session.get(OutboxEmail, email_id) or abort(404)
    content, problem = _content(row)
    return render_template(
        "dev/message.html",
        row=row,
        kinds=KINDS,
        statuses=STATUSES,
        content=content,
        problem=problem,
        text_html=linkify(content.text) if content else None,
        links=_URL.findall(content.text) if content else [],
    )


@bp.get("/mailbox/<int:email_id>/html")
def message_html(email_id: int) -> Response:
    row = db.session.get(OutboxEmail, email_id) or abort(404)
    content, _problem = _content(row)
    if content is None:
        abort(404)
    response = Response(content.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _content(row: OutboxEmail) -> tuple[RenderedEmail | None, str | None]:
    """What was sent; for an e-mail not sent yet, a preview rendered now (not stored)."""
    if row.body_text is not None and row.body_html is not None:
        return RenderedEmail(row.subject, row.body_text, row.body_html), None
    try:
        return render_email(row), None
    except MissingData as exc:
        return None, str(exc)


def linkify(text: str) -> Markup:
    """Escaped text whose web addresses are links (opened in a new tab)."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(str(escape(text[last:match.start()])))
        url = escape(match.group(0))
        parts.append(f'<a href="{url}" target="_blank" rel="noopener">{url}</a>')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))
