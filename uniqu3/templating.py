"""Jinja filters shared by pages and e-mails: money, Paris dates, status labels."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, has_app_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from . import carriers
from .labels import shown_carrier
from .money import format_money
from .timeutil import iso_utc, to_paris


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
    if value is None:
        return ""
    return to_paris(value).strftime(_datetime_format(locale or _locale()))


_DATETIME_FORMATS: dict[str, str] = {}


def _datetime_format(locale: str) -> str:
    """The translated « %(date)s à %(time)s » as one strftime format, made once per language
    (the catalogues are the same for every app of the process): a list of 25 dates then costs
    25 strftime calls, not 25 catalogue look-ups through the request context and 50 calls."""
    found = _DATETIME_FORMATS.get(locale)
    if found is None:
        if not has_app_context():
            return _strftime_format(_("%(date)s à %(time)s"))  # no catalogue: the French text
        with force_locale(locale):
            found = _DATETIME_FORMATS[locale] = _strftime_format(_("%(date)s à %(time)s"))
    return found


def _strftime_format(pattern: str) -> str:
    # Placeholders first, so that a '%' in the translated words is kept as a '%'.
    marked = pattern % {"date": "\0date", "time": "\0time"}
    return marked.replace("%", "%%").replace("\0date", "%d/%m/%Y").replace("\0time", "%H:%M")


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
    app.add_template_filter(carriers.url_template, "url_template")

    @app.context_processor
    def _globals() -> dict[str, str]:
        return {"current_locale": _locale()}
