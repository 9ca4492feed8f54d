"""« Paramètres »: shop name, payment instructions, notification e-mail, language, password."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import throttle
from ..auth.session import start_session
from ..errors import render_too_many
from ..extensions import db
from ..passwords import hash_password, password_problem, verify_password
from ..services import accounts
from ..workflow.accounts import setup_checklist
from ..workflow.rules import email_problem, multiline_text, shop_name_problem
from .blueprint import bp, current_seller
from .forms import FormState

MAX_INSTRUCTIONS = 2000
MAX_RETURN_ADDRESS = 500


def _profile_errors(form: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    problem = shop_name_problem(form.get("shop_name", ""), _)
    if problem:
        errors["shop_name"] = problem
    if len(form.get("payment_instructions", "")) > MAX_INSTRUCTIONS:
        errors["payment_instructions"] = _("Les instructions de paiement ont au plus %(max)s caractères.",
                                           max=MAX_INSTRUCTIONS)
    if len(form.get("return_address", "").strip()) > MAX_RETURN_ADDRESS:
        errors["return_address"] = _("L'adresse de retour a au plus %(max)s caractères.",
                                     max=MAX_RETURN_ADDRESS)
    email = form.get("notification_email", "").strip()
    problem = email_problem(email, _) if email else None
    if problem:  # the seller's notifications are sent there: an address the mailer can use
        errors["notification_email"] = problem
    if form.get("locale") not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("Choisissez une langue de la liste.")
    return errors


def _page(state: FormState | None = None, status: int = 200) -> Response:
    seller = current_seller()
    body = render_template("seller/settings.html", seller=seller, state=state or FormState(),
                           checklist=setup_checklist(seller))
    return make_response(body, status)


@bp.route("/parametres", methods=["GET", "POST"])
def settings() -> Response:
    if request.method == "GET":
        return _page()
    errors = _profile_errors(request.form)
    if errors:
        return _page(FormState("settings", dict(request.form), errors,
                               _("Vérifiez les champs signalés : rien n'a été enregistré.")), 422)
    seller = current_seller()
    seller.shop_name = request.form["shop_name"].strip()
    seller.payment_instructions = request.form.get("payment_instructions", "").strip()
    seller.notification_email = request.form.get("notification_email", "").strip() or None
    seller.return_address = multiline_text(request.form.get("return_address", ""), MAX_RETURN_ADDRESS)
    seller.locale = request.form["locale"]
    db.session.commit()
    flash(_("Paramètres enregistrés."), "success")
    return redirect(url_for("seller.settings"), code=303)


@bp.post("/parametres/mot-de-passe")
def change_password() -> Response:
    seller = current_seller()
    try:
        attempt = throttle.password_change(seller.id)
    except throttle.Throttled as refused:
        return render_too_many(_("Trop de tentatives. Patientez quelques minutes avant de réessayer."),
                               refused.retry_after)
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    errors: dict[str, str] = {}
    if not verify_password(seller.password_hash, current):
        errors["current_password"] = _("Mot de passe actuel incorrect.")
    problem = password_problem(new, _, context=[seller.email, seller.notify_address, seller.shop_name])
    if problem:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = _("Le nouveau mot de passe doit être différent de l'actuel.")
    if new != request.form.get("new_password_confirm", ""):
        errors["new_password_confirm"] = _("Les deux mots de passe ne sont pas identiques.")
    if errors:
        # Passwords are never sent back into the page.
        return _page(FormState("password", {}, errors, _("Le mot de passe n'a pas été changé.")), 422)
    attempt.succeeded()  # only wrong current passwords (and refusals) count
    # Every other session of this seller ends now (and they are told by e-mail)…
    if not accounts().set_password(seller, expected_hash=seller.password_hash, new_hash=hash_password(new),
                                   how="settings"):
        return _page(FormState("password", {}, {}, _("Le mot de passe n'a pas été changé.")), 409)
    start_session(seller)  # …but not this one
    flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
    return redirect(url_for("seller.settings"), code=303)
