"""Log in and log out."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Seller
from ..passwords import hash_password, needs_rehash, verify_password
from . import throttle
from .session import end_session, start_session

bp = Blueprint("auth", __name__)

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """Checking a password for an unknown e-mail takes as long as for a known one."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("no account has this password"))
    return _DUMMY_HASH[0]


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch in target for ch in "\r\n\t") or target.startswith("/connexion"):
        return None
    return target


@bp.after_request
def _referrer_policy(response: Response) -> Response:
    # Flask-WTF checks the Referer of HTTPS posts: send it to ourselves only.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def throttled_page(template: str, refused: throttle.Throttled, **context: object) -> Response:
    """The form again, 429, saying why and when to come back (and, for a locked account, the
    way through: « Mot de passe oublié »)."""
    if refused.limit is throttle.LOGIN_ACCOUNT:
        error = _("Trop de tentatives de connexion à ce compte. Patientez une heure, ou choisissez "
                  "« Mot de passe oublié » : le lien envoyé par e-mail permet d'en choisir un nouveau "
                  "et de vous connecter aussitôt.")
    elif refused.limit in (throttle.RESET_CLIENT, throttle.RESET_ACCOUNT):
        error = _("Trop de demandes de réinitialisation. Patientez avant de réessayer ; vérifiez aussi "
                  "vos courriers indésirables.")
    else:
        error = _("Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer.")
    response = make_response(render_template(template, error=error, **context), 429)
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("seller.orders"))
    email = ""
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        password = request.form.get("password") or ""
        try:
            attempt = throttle.login_attempt(email)
        except throttle.Throttled as refused:
            return throttled_page("auth/login.html", refused, email=email, next_url=next_url)
        seller = None
        if email and password:
            seller = db.session.scalar(select(Seller).where(func.lower(Seller.email) == email.lower()))
            if seller is None:
                verify_password(_dummy_hash(), password)  # same time as a wrong password
        if seller is not None and verify_password(seller.password_hash, password):
            if not seller.active:
                error = _("Ce compte vendeur est désactivé. Contactez UNIQU3APP.")
            else:
                attempt.succeeded()  # only failures count
                if needs_rehash(seller.password_hash):
                    seller.password_hash = hash_password(password)
                    db.session.commit()
                start_session(seller)
                flash(_("Bienvenue, %(shop)s.", shop=seller.shop_name), "success")
                return redirect(next_url or url_for("seller.orders"), code=303)
        else:
            error = _("E-mail ou mot de passe incorrect.")
    body = render_template("auth/login.html", email=email, error=error, next_url=next_url)
    return (body, 422) if error else body


@bp.post("/deconnexion")
def logout() -> Response:
    if current_user.is_authenticated:
        # Every copy of this session's cookie stops working, not just this browser's.
        seller = db.session.get(Seller, current_user.id)
        if seller is not None:
            seller.session_version += 1
            db.session.commit()
    end_session()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"), code=303)
