"""Sellers: create-seller, list-sellers, deactivate-seller, activate-seller."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Seller
from ..passwords import hash_password, password_problem
from ..workflow import counts
from ..workflow.rules import email_is_valid, shop_name_problem
from .group import command, show_rows, when


def find_seller(email: str) -> Seller:
    seller = db.session.scalar(select(Seller).where(func.lower(Seller.email) == email.strip().lower()))
    if seller is None:
        raise click.ClickException(_("Aucun vendeur avec l'adresse %(email)s.", email=email))
    return seller


def _read_password(from_stdin: bool, context: list[str]) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException(_("Aucun mot de passe reçu sur l'entrée standard."))
        problem = password_problem(password, _, context=context)
        if problem:
            raise click.ClickException(problem)
        return password

    def check(value: str) -> str:
        problem = password_problem(value, _, context=context)
        if problem:
            raise click.UsageError(problem)
        return value

    return str(click.prompt(
        _("Mot de passe"), hide_input=True, value_proc=check,
        confirmation_prompt=_("Confirmez le mot de passe"),
    ))


@command("create-seller")
@click.argument("email")
@click.option("--shop-name", help="Nom de la boutique (par défaut : ce qui précède @ dans l'e-mail).")
@click.option("--payment-instructions", default="",
              help="Comment l'acheteur paie (IBAN, PayPal…), repris dans l'e-mail E2.")
@click.option("--password-stdin", is_flag=True,
              help="Lire le mot de passe sur une ligne de l'entrée standard (sinon : invite masquée).")
def create_seller(email: str, shop_name: str | None, payment_instructions: str,
                  password_stdin: bool) -> None:
    """Créer un compte vendeur (le mot de passe n'est jamais passé en argument)."""
    email = email.strip()
    if not email_is_valid(email):
        raise click.ClickException(_("Adresse e-mail invalide : %(email)s", email=email))
    if db.session.scalar(select(Seller.id).where(func.lower(Seller.email) == email.lower())):
        raise click.ClickException(_("Un vendeur existe déjà avec l'adresse %(email)s.", email=email))
    name = (shop_name if shop_name is not None else email.split("@", 1)[0]).strip()
    problem = shop_name_problem(name, _)
    if problem:
        raise click.ClickException(_("Nom de boutique invalide : %(problem)s", problem=problem))
    password = _read_password(password_stdin, [email, name])
    seller = Seller(
        email=email,
        shop_name=name,
        password_hash=hash_password(password),
        payment_instructions=payment_instructions.strip(),
        locale="fr",
        active=True,
    )
    db.session.add(seller)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise click.ClickException(
            _("Un vendeur existe déjà avec l'adresse %(email)s.", email=email)
        ) from exc
    click.echo(_("Vendeur créé : %(email)s « %(shop)s » (n° %(id)d).",
                 email=seller.email, shop=seller.shop_name, id=seller.id))


@command("list-sellers")
def list_sellers() -> None:
    """Lister les vendeurs, avec leur nombre de commandes."""
    sellers = db.session.scalars(select(Seller).order_by(Seller.id)).all()
    rows = [
        [str(s.id), s.email, s.shop_name, _("actif") if s.active else _("désactivé"),
         str(counts.orders_of(s)), when(s.created_at)]
        for s in sellers
    ]
    show_rows([_("n°"), _("e-mail"), _("boutique"), _("état"), _("commandes"), _("créé le")], rows,
              empty=_("Aucun vendeur. Créez-en un : flask admin create-seller EMAIL"))


def _set_active(email: str, active: bool) -> None:
    seller = find_seller(email)
    if seller.active == active:
        click.echo(_("%(email)s est déjà actif.", email=seller.email) if active
                   else _("%(email)s est déjà désactivé.", email=seller.email))
        return
    seller.active = active
    if not active:
        # Every open session of the seller ends now.
        seller.session_version += 1
    db.session.commit()
    if active:
        click.echo(_("%(email)s est réactivé : il peut se connecter et recevoir des commandes.",
                     email=seller.email))
    else:
        click.echo(_("%(email)s est désactivé : connexion fermée, nouvelles commandes refusées.",
                     email=seller.email))


@command("deactivate-seller")
@click.argument("email")
def deactivate_seller(email: str) -> None:
    """Désactiver un vendeur (connexion et nouvelles commandes refusées)."""
    _set_active(email, False)


@command("activate-seller")
@click.argument("email")
def activate_seller(email: str) -> None:
    """Réactiver un vendeur désactivé."""
    _set_active(email, True)
