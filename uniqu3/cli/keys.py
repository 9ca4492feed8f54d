"""API keys: create-api-key, list-api-keys, revoke-api-key."""

from __future__ import annotations

import click
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import apikeys
from ..extensions import db
from ..models import ApiKey
from ..services import now
from .group import command, show_rows, show_secret, when
from .sellers import find_seller

MAX_NAME = 120


@command("create-api-key")
@click.option("--name", help="Nom de la clé, repris dans l'historique des commandes.")
@click.option("--seller", "seller_email", metavar="EMAIL",
              help="Limiter la clé aux commandes de ce vendeur (sinon : clé de la marketplace).")
def create_api_key(name: str | None, seller_email: str | None) -> None:
    """Créer une clé d'API : affichée une seule fois, sur la dernière ligne."""
    seller = find_seller(seller_email) if seller_email is not None else None
    if name is None:
        name = f"vendeur {seller.email}" if seller is not None else "marketplace"
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise click.ClickException(_("Nom de clé invalide : de 1 à %(max)d caractères.", max=MAX_NAME))
    key, raw = apikeys.create_key(db.session(), name=name, seller=seller, now=now())
    if seller is not None:
        click.echo(_("Clé d'API n° %(id)d « %(name)s » créée pour le vendeur %(email)s.",
                     id=key.id, name=key.name, email=seller.email))
    else:
        click.echo(_("Clé d'API n° %(id)d « %(name)s » créée pour la marketplace (tous les vendeurs).",
                     id=key.id, name=key.name))
    show_secret(_("Copiez-la maintenant : elle ne sera plus jamais affichée."), raw)


@command("list-api-keys")
def list_api_keys() -> None:
    """Lister les clés d'API (jamais la clé elle-même)."""
    keys = db.session.scalars(
        select(ApiKey).options(joinedload(ApiKey.seller)).order_by(ApiKey.id)
    ).all()
    rows = [
        [
            str(k.id),
            apikeys.display_prefix(k),
            k.name,
            k.seller.email if k.seller is not None else _("(marketplace)"),
            when(k.created_at),
            when(k.last_used_at),
            _("révoquée le %(when)s", when=when(k.revoked_at)) if k.revoked_at else _("active"),
        ]
        for k in keys
    ]
    show_rows([_("n°"), _("préfixe"), _("nom"), _("vendeur"), _("créée le"), _("dernier usage"), _("état")],
              rows, empty=_("Aucune clé d'API. Créez-en une : flask admin create-api-key"))


@command("revoke-api-key")
@click.argument("prefix_or_id")
def revoke_api_key(prefix_or_id: str) -> None:
    """Révoquer une clé d'API, par son n° ou son préfixe."""
    key = apikeys.find_key(db.session(), prefix_or_id)
    if key is None:
        raise click.ClickException(_("Aucune clé d'API « %(key)s ».", key=prefix_or_id))
    if not apikeys.revoke_key(db.session(), key, now=now()):
        click.echo(_("La clé n° %(id)d « %(name)s » était déjà révoquée (le %(when)s).",
                     id=key.id, name=key.name, when=when(key.revoked_at)))
        return
    click.echo(_("Clé n° %(id)d « %(name)s » révoquée : elle est refusée dès maintenant.",
                 id=key.id, name=key.name))
