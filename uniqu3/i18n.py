"""Language and time zone: French by default, English from the seller's setting or browser."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user


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
