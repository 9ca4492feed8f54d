"""« Mot de passe oublié »: ask for a link by e-mail, then choose a new password with it.

The request is answered the same way whether the address has an account or not, and as
quickly: the address is looked up after the answer (jobs/background.py). Requests are throttled
per client and per address. The link (signed, one hour) is bound to the password as it was:
once used, or once the password changed otherwise, it opens nothing. A new password ends every
session of the seller, clears the guesses counted against the account, and is confirmed by
e-mail.
"""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from jobs.background import deliverer

from ..models import Seller
from ..passwords import hash_password, password_problem
from ..services import accounts
from ..tokens import InvalidToken, password_reset_from_token
from ..workflow.rules import EMAIL_MAX
from . import throttle
from .views import bp, throttled_page


def _request_reset_later(email: str) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask

    def work() -> None:
        with app.app_context():
            accounts().request_password_reset(email)

    deliverer(app).call(work)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password() -> Response | str:
    if request.method == "GET":
        return render_template("auth/forgot.html", email="", error=None, sent=False)
    email = (request.form.get("email") or "").strip()[:EMAIL_MAX]
    if not email or "@" not in email:
        body = render_template("auth/forgot.html", email=email, sent=False,
                               error=_("Indiquez l'adresse e-mail de votre compte vendeur."))
        return make_response(body, 422)
    try:
        throttle.reset_request(email)
    except throttle.Throttled as refused:
        return throttled_page("auth/forgot.html", refused, email=email, sent=False)
    _request_reset_later(email)
    return render_template("auth/forgot.html", email=email, error=None, sent=True)


def _seller_for(token: str) -> Seller | None:
    try:
        seller_id, fingerprint = password_reset_from_token(token)
    except InvalidToken:
        return None
    return accounts().seller_for_reset(seller_id, fingerprint)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    seller = _seller_for(token)
    if seller is None:
        return make_response(render_template("auth/reset_invalid.html"), 404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        new = request.form.get("new_password", "")
        problem = password_problem(new, _, context=[seller.email, seller.notify_address, seller.shop_name])
        if problem:
            errors["new_password"] = problem
        if new != request.form.get("new_password_confirm", ""):
            errors["new_password_confirm"] = _("Les deux mots de passe ne sont pas identiques.")
        if not errors:
            email = seller.email
            if accounts().set_password(seller, expected_hash=seller.password_hash,
                                       new_hash=hash_password(new), how="reset"):
                throttle.unlock_account(email)
                flash(_("Mot de passe changé : toutes vos sessions ont été fermées. Connectez-vous avec "
                        "le nouveau."), "success")
                return redirect(url_for("auth.login"), code=303)
            return make_response(render_template("auth/reset_invalid.html"), 404)
    body = render_template("auth/reset.html", seller=seller, token=token, errors=errors)
    return make_response(body, 422 if errors else 200)
