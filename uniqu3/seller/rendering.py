"""Rendering helpers: is this an htmx fragment request, render one block of a page template,
build many URLs or links of one route."""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import escape

from ..language_templates import language_environment
from ..templating import kept_url


def wants_fragment() -> bool:
    """An htmx swap wants a fragment; an htmx history restore wants the whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render_block(template_name: str, block: str, **context: Any) -> str:
    """Render one `{% block %}` of a page with `context` alone, in the page's language
    environment (uniqu3.language_templates). The page and its fragment come from one template,
    so they can never drift apart.

    Without Flask's template context (request, session, current_user…): a block rendered here
    is kept and shown to later views (list_cache), so it must depend on its arguments only.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    template = language_environment(app, str(get_locale())).get_template(template_name)
    render = template.blocks[block]
    return "".join(render(template.new_context(context)))


def render_page(template_name: str, **context: Any) -> str:
    """render_template in the page's language environment: constant texts translated once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    template = language_environment(app, str(get_locale())).get_template(template_name)
    app.update_template_context(context)
    return template.render(context)


#: RFC 3986's unreserved characters: a value made of them alone is neither quoted in a URL nor
#: escaped in HTML (order references are).
_PLAIN = frozenset(string.ascii_letters + string.digits + "-._~")


#: The link makers kept (a few routes, per mount point).
_HREF_MAKERS_MAX = 64
_HREF_MAKERS = "uniqu3.href_makers"


def href_maker(endpoint: str, name: str, **values: str) -> Callable[[str], str]:
    """`url_for(endpoint, name=value, **values)`, escaped for an HTML attribute, for many values
    of one path variable (`values`: written in the code): the route's address built once
    (templating.kept_url), then each value quoted the way the map's default converter quotes
    it (a plain value as it is). Made once per mount point and kept: it depends on nothing
    else, and making it costs as much as a dozen links."""
    kept: dict[tuple[Any, ...], Callable[[str], str]] = current_app.extensions.setdefault(_HREF_MAKERS, {})
    key = (request.script_root, endpoint, name, tuple(values.items()))
    href = kept.get(key)
    if href is None:
        href = _href_maker(endpoint, name, values)
        if len(kept) < _HREF_MAKERS_MAX:
            kept[key] = href
    return href


def _href_maker(endpoint: str, name: str, values: dict[str, str]) -> Callable[[str], str]:
    to_url = current_app.url_map.converters["default"](current_app.url_map).to_url
    slot = to_url("\0")
    prefix, found, suffix = kept_url(endpoint, **values, **{name: "\0"}).partition(slot)
    if not found or slot in suffix:
        raise ValueError(f"{endpoint}: <{name}> is not a plain path variable")
    prefix, suffix = escape(prefix), escape(suffix)

    def href(value: str) -> str:
        return f"{prefix}{value if is_plain(value) else escape(to_url(value))}{suffix}"
    return href


def is_plain(text: str) -> bool:
    """Made of unreserved characters only (nothing to escape in HTML or quote in a URL)."""
    return _PLAIN.issuperset(text)


#: What werkzeug leaves unquoted in a query string (url_for's own encoding).
_QUERY_SAFE = "!$'()*,/:;?@"


@lru_cache(maxsize=1024)
def _quoted(text: str) -> str:
    """urlencode's quoting of one name or value: a page's links repeat the same few (tabs,
    search), and quoting is most of what a link costs."""
    return quote_plus(text, safe=_QUERY_SAFE)


def query_url_maker(endpoint: str, **values: str) -> Callable[..., str]:
    """`url_for(endpoint, **values, **args)` for many sets of query arguments (`values`: written
    in the code): the route's address built once (templating.kept_url), then each set encoded
    the way url_for encodes it (None values left out)."""
    path = kept_url(endpoint, **values)

    def url(**args: Any) -> str:
        query = "&".join(f"{_quoted(k)}={_quoted(str(v))}" for k, v in args.items() if v is not None)
        return f"{path}?{query}" if query else path
    return url
