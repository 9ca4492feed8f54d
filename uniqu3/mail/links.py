"""Absolute links put in e-mails (BASE_URL): the buyer's signed pages and the seller's order."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from ..tokens import order_token, password_reset_token, receipt_token


def _base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def buyer_order_url(order_id: int) -> str:
    """The buyer's order page (no login: a signed token)."""
    return f"{_base()}/o/{order_token(order_id)}"


def receipt_url(shipment_id: int) -> str:
    """The page with the « J'ai bien reçu ma commande » button for one parcel."""
    return f"{_base()}/r/{receipt_token(shipment_id)}"


def problem_url(shipment_id: int) -> str:
    """The « Signaler un problème » form of one parcel (the same signed link as its receipt)."""
    return f"{_base()}/r/{receipt_token(shipment_id)}/probleme"


def seller_order_url(reference: str) -> str:
    """The order in the seller's dashboard (built by path: the seller blueprint may be absent)."""
    return f"{_base()}/commandes/{quote(reference, safe='')}"


def password_reset_url(seller_id: int, fingerprint: str) -> str:
    """« Choisir un nouveau mot de passe » (signed, one hour, one use)."""
    return f"{_base()}/mot-de-passe/{password_reset_token(seller_id, fingerprint)}"


def login_url() -> str:
    return f"{_base()}/connexion"


def seller_proof_url(reference: str, number: int) -> str:
    """The printable « Preuve de réception » of one parcel, in the seller's dashboard."""
    return f"{seller_order_url(reference)}/colis/{number}/preuve"
