"""Jinja filters shared by pages and e-mails: money, Paris dates (written as uniqu3/i18n.py
writes them for the page's language), status labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale

from . import carriers
from .addresses import address_lines, same_address
from .i18n import format_day, format_moment
from .labels import shown_carrier
from .money import format_money
from .timeutil import iso_utc
from .workflow.rules import phone_shown


def _locale() -> str:
    try:
        return str(get_locale() or "fr")
    except RuntimeError:
        return "fr"


def money(cents: int | None, currency: str = "EUR", locale: str | None = None) -> str:
    """`locale`: the page's language when the caller has it (a list shows many amounts)."""
    if cents is None:
        return ""
    return format_money(cents, currency, locale or _locale())


def paris_datetime(value: datetime | None, locale: str | None = None) -> str:
    """'12/12/2026 à 14:03' (French) or '12/12/2026 at 14:03'; `locale` as for money."""
    return format_moment(value, locale or _locale())


def paris_instant(value: datetime | None, locale: str | None = None) -> str:
    """To the second, for evidence: '12/12/2026 à 14:03:27'."""
    return format_moment(value, locale or _locale(), seconds=True)


def utc_instant(value: datetime | None) -> str:
    return iso_utc(value) if value is not None else ""


def paris_date(value: date | datetime | None, locale: str | None = None) -> str:
    return format_day(value, locale or _locale())


def long_date(value: date | datetime | None, locale: str | None = None) -> str:
    """'vendredi 27 novembre 2026' (the day in Paris for a datetime)."""
    return format_day(value, locale or _locale(), long=True)


def long_datetime(value: datetime | None, locale: str | None = None) -> str:
    """'vendredi 27 novembre 2026 à 10:30' in Paris time."""
    return format_moment(value, locale or _locale(), long=True)


#: At most this many addresses kept (a few routes and static files, per mount point).
_CONSTANT_URLS_MAX = 256
_KEPT_URLS = "uniqu3.kept_urls"


class KeptUrls:
    """Addresses that depend on nothing but the app and the values the code writes, built
    once per mount point. A page asks for the same dozen (its menu, forms, stylesheet, its
    rows' route) on every view, and building one through the URL map costs more than the
    rest of its use."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._built: dict[tuple[str, str, tuple[tuple[str, Any], ...]], str] = {}

    def url(self, endpoint: str, **values: Any) -> str:
        """url_for(endpoint, **values) for values written in the code, never a request's."""
        options = any(name.startswith("_") for name in values)
        if options or endpoint.startswith(".") or not has_request_context():
            # A blueprint-relative name, or url_for's own options (_external depends on the
            # host asked for): built each time.
            return self._app.url_for(endpoint, **values)
        key = (request.script_root, endpoint, tuple(values.items()))
        found = self._built.get(key)
        if found is None:
            found = self._app.url_for(endpoint, **values)
            if len(self._built) < _CONSTANT_URLS_MAX:
                self._built[key] = found
        return found

    def template_url_for(self, endpoint: str, **values: Any) -> str:
        """Templates' `url_for`: a route without values and a static file are kept; any other
        call is passed to Flask's url_for as it is."""
        if not values or (endpoint == "static" and values.keys() == {"filename"}):
            return self.url(endpoint, **values)
        return self._app.url_for(endpoint, **values)


def constant_url_for(app: Flask) -> Callable[..., str]:
    """The app's templates' `url_for` (KeptUrls.template_url_for)."""
    kept: KeptUrls = app.extensions.setdefault(_KEPT_URLS, KeptUrls(app))
    return kept.template_url_for


def kept_url(endpoint: str, **values: str) -> str:
    """url_for(endpoint, **values), kept (KeptUrls.url): only for values written in the code."""
    kept: KeptUrls = current_app.extensions[_KEPT_URLS]
    return kept.url(endpoint, **values)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = constant_url_for(app)
    app.add_template_filter(money, "money")
    app.add_template_filter(paris_datetime, "datetime")
    app.add_template_filter(paris_date, "date")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(long_datetime, "long_datetime")
    app.add_template_filter(paris_instant, "instant")
    app.add_template_filter(utc_instant, "utc")
    app.add_template_filter(shown_carrier, "carrier")
    app.add_template_filter(phone_shown, "phone")
    app.add_template_filter(carriers.url_template, "url_template")
    app.add_template_filter(lambda address: address_lines(address, _locale()), "address_lines")
    app.add_template_global(same_address, "same_address")

    @app.context_processor
    def _globals() -> dict[str, str]:
        return {"current_locale": _locale()}
