"""Buyer pages' tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from uniqu3.extensions import login_manager


@pytest.fixture(autouse=True)
def _anonymous_visitors(app: Flask) -> Iterator[None]:
    """Pages read `current_user` (language choice): without the sign-in feature's user loader
    every visitor is anonymous. Leaves a loader registered by the app alone."""
    if getattr(login_manager, "_user_callback", None) is not None:
        yield
        return
    login_manager.user_loader(lambda _user_id: None)
    try:
        yield
    finally:
        login_manager._user_callback = None


def csrf_token(html: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def page_text(html: str) -> str:
    """A page's visible text, roughly: tags out, entities decoded, spaces collapsed."""
    import html as html_module

    body = html.split("<main", 1)[-1]
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", body)).replace("\u00a0", " ").split())
