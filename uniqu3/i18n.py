"""Language and time zone: French by default, English from the seller's setting or browser;
and the one way dates and times are written for people in each language (pages, e-mails,
CSV, CLI), from Babel's data for that language, in Paris time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from typing import TypeVar

from babel import Locale
from babel.dates import format_date, format_skeleton
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from .timeutil import to_paris

T = TypeVar("T")


def select_locale() -> Locale:
    """The request's language (Flask-Babel asks once per request): as a Babel Locale made once
    per language, which Flask-Babel would otherwise parse from its name on every request."""
    return _locale_of(_language())


def _language() -> str:
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, worker: the product's language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    user = current_user._get_current_object()  # once: each look-up through the proxy costs
    if user is not None and user.is_authenticated:
        locale = getattr(user, "locale", None)
        if locale in languages:
            return str(locale)
    requested = request.args.get("lang")
    if requested in languages:
        return str(requested)
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=64)
def _locale_of(language: str) -> Locale:
    return Locale.parse(language)


#: The language a visitor chose before logging in (« Français | English » on the login pages),
#: kept in the session cookie; a logged-in seller's own setting comes first.
SESSION_KEY = "lang"


def remember_language() -> None:
    """`?lang=en` on any page is remembered for the next pages of the session."""
    requested = request.args.get("lang")
    if requested in current_app.config["LANGUAGES"] and session.get(SESSION_KEY) != requested:
        session[SESSION_KEY] = requested


def init_app(app: Flask) -> None:
    app.before_request(remember_language)


def select_timezone() -> str:
    return "Europe/Paris"


def once_per_language(name: str, locale: str, make: Callable[[], T]) -> T:
    """`make()` run in `locale` the first time, kept in the app for every later call.

    For texts a page shows many times (labels, formats): each Flask-Babel look-up goes
    through the request context, which costs more than the text's use."""
    kept: dict[str, T] = current_app.extensions.setdefault(f"uniqu3.{name}", {})
    found = kept.get(locale)
    if found is None:
        with force_locale(locale):
            found = kept[locale] = make()
    return found


# ----------------------------------------------------------------------------- dates for people
def format_day(value: date | datetime | None, locale: str, *, long: bool = False) -> str:
    """A day (Paris's, for an instant): '20/11/2026' (fr) or '11/20/2026' (en), the language's
    numeric date; `long`: 'vendredi 20 novembre 2026', 'Friday, November 20, 2026'."""
    if value is None:
        return ""
    day = to_paris(value).date() if isinstance(value, datetime) else value
    return _full_day(day, locale) if long else _numeric_day(day, locale)


def format_moment(value: datetime | None, locale: str, *, long: bool = False,
                  seconds: bool = False, joined: bool = True) -> str:
    """An instant in Paris: '20/11/2026 à 10:30' (fr), '11/20/2026 at 10:30' (en); `long` with
    format_day's long date, `seconds` to the second (evidence), `joined=False` with a plain
    space instead of « à » (a spreadsheet's cell)."""
    if value is None:
        return ""
    local = to_paris(value)
    day = format_day(local.date(), locale, long=long)
    clock = _clock(local.hour, local.minute, local.second if seconds else None, locale)
    if not joined:
        return f"{day} {clock}"
    return _joiner(locale) % {"date": day, "time": clock}


def moment_writer(locale: str) -> Callable[[datetime], str]:
    """format_moment for many instants already in Paris time (a list's rows), the language's
    « à » looked up once."""
    joiner = _joiner(locale)

    def write(local: datetime) -> str:
        return joiner % {"date": _numeric_day(local.date(), locale),
                         "time": _clock(local.hour, local.minute, None, locale)}
    return write


@lru_cache(maxsize=4096)
def _numeric_day(day: date, locale: str) -> str:
    return str(format_skeleton("yMd", day, locale=locale))


@lru_cache(maxsize=4096)
def _full_day(day: date, locale: str) -> str:
    return str(format_date(day, format="full", locale=locale))


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, second: int | None, locale: str) -> str:
    at = time(hour, minute, second or 0)
    return str(format_skeleton("Hms" if second is not None else "Hm", at, locale=locale))


def _joiner(locale: str) -> str:
    """The translated « %(date)s à %(time)s », looked up once per language."""
    if not has_app_context():
        return "%(date)s à %(time)s"  # no catalogue: the French text
    return once_per_language("date_time_joiner", locale, lambda: _("%(date)s à %(time)s"))
