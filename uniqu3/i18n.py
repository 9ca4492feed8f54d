"""Language and time zone: French by default, English from the seller's setting or browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_login import current_user

T = TypeVar("T")


def select_locale() -> str:
    languages: list[str] = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, worker: the product's language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated:
        locale = getattr(current_user, "locale", None)
        if locale in languages:
            return str(locale)
    requested = request.args.get("lang")
    if requested in languages:
        return str(requested)
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


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
