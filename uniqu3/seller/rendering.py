"""htmx helpers: is this a fragment request, and render one block of a page template."""

from __future__ import annotations

from typing import Any

from flask import current_app, request


def wants_fragment() -> bool:
    """An htmx swap wants a fragment; an htmx history restore wants the whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render_block(template_name: str, block: str, **context: Any) -> str:
    """Render one `{% block %}` of a page, with the same context the page would have.

    The page and its fragment come from one template, so they can never drift apart.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    template = app.jinja_env.get_template(template_name)
    app.update_template_context(context)
    render = template.blocks[block]
    return "".join(render(template.new_context(context)))
