"""Jinja filters shared by pages and e-mails: money, Paris dates, status labels."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from .labels import shown_carrier
from .money import format_money
from .timeutil import iso_utc, to_paris


def _locale() -> str:
    try:
        return str(get_locale() or "fr")
    except RuntimeError:
        return "fr"


def money(cents: int | None, currency: str = "EUR") -> str:
    if cents is None:
        return ""
    return format_money(cents, currency, _locale())


def paris_datetime(value: datetime | None) -> str:
    """'12/12/2026 à 14:03' (French) or '12/12/2026 at 14:03'."""
    if value is None:
        return ""
    local = to_paris(value)
    return _("%(date)s à %(time)s", date=local.strftime("%d/%m/%Y"), time=local.strftime("%H:%M"))


def paris_instant(value: datetime | None) -> str:
    """To the second, for evidence: '12/12/2026 à 14:03:27'."""
    if value is None:
        return ""
    local = to_paris(value)
    return _("%(date)s à %(time)s", date=local.strftime("%d/%m/%Y"), time=local.strftime("%H:%M:%S"))


def utc_instant(value: datetime | None) -> str:
    return iso_utc(value) if value is not None else ""


def paris_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return value.strftime("%d/%m/%Y")


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(paris_datetime, "datetime")
    app.add_template_filter(paris_date, "date")
    app.add_template_filter(paris_instant, "instant")
    app.add_template_filter(utc_instant, "utc")
    app.add_template_filter(shown_carrier, "carrier")

    @app.context_processor
    def _globals() -> dict[str, str]:
        return {"current_locale": _locale()}
