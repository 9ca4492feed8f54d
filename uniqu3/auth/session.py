"""The seller's session: who is logged in, for how long, and when it stops being valid.

The session cookie holds "id:session_version" (Seller.get_id()). Bumping the seller's
session_version (logout, password change) makes every copy of older cookies useless.
An idle session ends after SESSION_IDLE_MINUTES without a request, measured with the
app's clock so tests can move time.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from ..extensions import db, login_manager
from ..models import Seller
from ..security import storable_id
from ..services import now

SEEN_KEY = "seen"
# Writing the stamp changes the cookie: once a minute is precise enough for an idle timeout.
SEEN_RESOLUTION_SECONDS = 60


def now_stamp() -> int:
    return int(now().timestamp())


# Built once: the seller is read on every request, and `Session.get` builds its statement
# each time (a third of what reading the seller costs).
_SELLER_BY_ID = select(Seller).where(Seller.id == bindparam("id"))


def load_seller(user_id: str) -> Seller | None:
    """Flask-Login's loader: refuses a malformed id, a stale version or an inactive seller."""
    raw_id, sep, raw_version = user_id.partition(":")
    if not sep or not raw_id.isdigit() or not raw_version.isdigit() or not storable_id(int(raw_id)):
        return None
    seller = db.session.execute(_SELLER_BY_ID, {"id": int(raw_id)}).scalar_one_or_none()
    if seller is None or not seller.active or seller.session_version != int(raw_version):
        return None
    return seller


def start_session(seller: Seller) -> None:
    """A brand-new session for this seller: nothing from before the login survives."""
    session.clear()
    session.permanent = True
    login_user(seller)
    session[SEEN_KEY] = now_stamp()


def end_session() -> None:
    logout_user()
    session.clear()


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def unauthorized() -> BaseResponse:
    """Not logged in: back to the login page, then to the page asked for."""
    if not session.get("_flashes"):  # the idle check may already have said why
        flash(login_manager.login_message, login_manager.login_message_category)
    target = request.full_path.rstrip("?") if request.method == "GET" else _page_of_action()
    login_url = url_for("auth.login", next=target) if target and target != "/" else url_for("auth.login")
    if is_htmx():
        # htmx follows this header with a full page load instead of swapping a fragment.
        response = Response(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def _page_of_action() -> str | None:
    """An action posted once the session has ended: its order's page, to come back to (the
    post itself is not replayed: the seller sees the order again before acting)."""
    reference = (request.view_args or {}).get("reference")
    return url_for("seller.order_detail", reference=reference) if isinstance(reference, str) else None


def check_idle() -> None:
    """Before each request: end a session left idle too long, refresh the stamp otherwise."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return  # static files never need the seller (nor a database query)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    now = now_stamp()
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int) or now - seen > idle:
        end_session()
        flash(_l("Votre session a expiré après une période d'inactivité. Reconnectez-vous."), "info")
        return
    if now - seen >= SEEN_RESOLUTION_SECONDS or now < seen:
        session[SEEN_KEY] = now


def init_app(app: Flask) -> None:
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à vos commandes.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_seller)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(check_idle)
