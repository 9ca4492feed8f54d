"""« Paramètres »: shop name, payment instructions, notification e-mail, language, password."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.session import start_session
from ..extensions import db, limiter
from ..models import Seller
from ..passwords import hash_password, password_problem, verify_password
from ..workflow.rules import email_problem, shop_name_problem
from .blueprint import bp
from .forms import FormState

MAX_INSTRUCTIONS = 2000


def _seller() -> Seller:
    return current_user._get_current_object()


def _profile_errors(form: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    problem = shop_name_problem(form.get("shop_name", ""), _)
    if problem:
        errors["shop_name"] = problem
    if len(form.get("payment_instructions", "")) > MAX_INSTRUCTIONS:
        errors["payment_instructions"] = _("Les instructions de paiement ont au plus %(max)s caractères.",
                                           max=MAX_INSTRUCTIONS)
    email = form.get("notification_email", "").strip()
    problem = email_problem(email, _) if email else None
    if problem:  # the seller's notifications are sent there: an address the mailer can use
        errors["notification_email"] = problem
    if form.get("locale") not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Choisissez une langue de la liste.")
    return errors


def _page(state: FormState | None = None, status: int = 200) -> Response:
    body = render_template("seller/settings.html", seller=_seller(), state=state or FormState())
    return make_response(body, status)


@bp.route("/parametres", methods=["GET", "POST"])
def settings() -> Response:
    if request.method == "GET":
        return _page()
    errors = _profile_errors(request.form)
    if errors:
        return _page(FormState("settings", dict(request.form), errors,
                               _("Vérifiez les champs signalés : rien n'a été enregistré.")), 422)
    seller = _seller()
    seller.shop_name = request.form["shop_name"].strip()
    seller.payment_instructions = request.form.get("payment_instructions", "").strip()
    seller.notification_email = request.form.get("notification_email", "").strip() or None
    seller.locale = request.form["locale"]
    db.session.commit()
    flash(_("Paramètres enregistrés."), "success")
    return redirect(url_for("seller.settings"), code=303)  # type: ignore[return-value]


def _password_key() -> str:
    return f"password-change|{current_user.get_id().partition(':')[0]}"


@bp.post("/parametres/mot-de-passe")
@limiter.limit("5/minute", key_func=_password_key, deduct_when=lambda r: r.status_code != 303,
               error_message=lambda: _("Trop de tentatives. Patientez quelques minutes avant de réessayer."))
def change_password() -> Response:
    seller = _seller()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    errors: dict[str, str] = {}
    if not verify_password(seller.password_hash, current):
        errors["current_password"] = _("Mot de passe actuel incorrect.")
    problem = password_problem(new, _)
    if problem:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = _("Le nouveau mot de passe doit être différent de l'actuel.")
    if new != request.form.get("new_password_confirm", ""):
        errors["new_password_confirm"] = _("Les deux mots de passe ne sont pas identiques.")
    if errors:
        # Passwords are never sent back into the page.
        return _page(FormState("password", {}, errors, _("Le mot de passe n'a pas été changé.")), 422)
    seller.password_hash = hash_password(new)
    seller.session_version += 1  # every other session of this seller ends now
    db.session.commit()
    start_session(seller)  # …but not this one
    flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
    return redirect(url_for("seller.settings"), code=303)  # type: ignore[return-value]
