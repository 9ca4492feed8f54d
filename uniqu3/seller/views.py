"""« Commandes », the order page, the preparation slip and the CSV export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from ..database import reads_only
from ..labels import STATUS_LABELS
from ..services import now
from ..timeutil import paris_today
from ..workflow.accounts import setup_checklist
from . import export, queries
from .blueprint import bp, current_seller
from .list_cache import rendered_lists
from .listing import list_texts, page_summary, shown_rows
from .pages import order_context, tracking_preview
from .queries import Cursor
from .rendering import href_maker, query_url_maker, render_block, render_page, wants_fragment


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("seller.orders"))


def _list_filter(args: Mapping[str, str] | None = None) -> tuple[queries.Tab, str]:
    args = request.args if args is None else args
    tab = queries.tab_for(args.get("statut"))
    query = (args.get("q") or "").strip()[: queries.SEARCH_MAX]
    return tab, query


#: The most digits of a place in a list a page address may carry (`debut`); past it, none is
#: shown (and no long text is read as a number).
_FIRST_DIGITS = 8


def _first_of(raw: str | None) -> int | None:
    """The place of the page's first order in its list (`debut`, carried by the pager's links)."""
    if raw and raw.isdecimal() and len(raw) <= _FIRST_DIGITS and int(raw) >= 1:
        return int(raw)
    return None


def list_results(args: Mapping[str, str]) -> tuple[Markup, str]:
    """The « Commandes » results for a filter and page (`statut`, `q`, `apres`, `avant`, `debut`,
    as in the page's URL or the selection's form), and the search text."""
    tab, query = _list_filter(args)
    raw_after = args.get("apres")
    after = Cursor.decode(raw_after)
    before = None if after else Cursor.decode(args.get("avant"))
    # The first page is the list's first; a page reached by the pager knows its place.
    first = _first_of(args.get("debut")) if (after or before) else 1
    seller = current_seller()
    locale = str(get_locale())
    today = paris_today(now())  # the rows' ages count the days to it

    def render_results() -> str:
        texts = list_texts(locale)
        page, counts = queries.list_page(seller, tab, query, after=after, before=before)
        rows = shown_rows(page.orders, texts, today, href_maker("seller.order_detail", "reference"))
        shown = len(page.orders)
        return render_block("seller/orders.html", "results", **{
            "tab": tab,
            "tabs": texts.tabs,
            "q": query,
            "page": page,
            "rows": rows,
            "summary": page_summary(first, shown, counts[tab.slug], texts),
            # The places of the pages before and after this one, for the pager's links.
            "places": {"avant": max(1, first - queries.PER_PAGE) if first else None,
                       "apres": first + shown if first else None},
            "counts": {slug: count.shown(locale) for slug, count in counts.items()},
            "list_url": query_url_maker("seller.orders"),
            "export_url": query_url_maker("seller.export_csv"),
            "from_older_page": bool(raw_after),
            "cursor": {"apres": after.encode() if after else None,
                       "avant": before.encode() if before else None,
                       "debut": first if (after or before) else None},
        })

    # The seller was read before any order: its orders_version is never newer than the
    # orders a render would read now (see list_cache). The day is in the key for the ages.
    key = (seller.id, seller.orders_version, locale, tab.slug, query, after, before, bool(raw_after),
           first, today)
    return rendered_lists().get_or_render(key, render_results), query


def orders_page(args: Mapping[str, str], *, status: int = 200, **context: Any) -> Response:
    """« Commandes » (a fragment for htmx), with what an action adds above the results."""
    results, query = list_results(args)
    if wants_fragment():
        body = str(results)
        if context:
            body = render_template("seller/_bulk_summary.html", **context) + body
        else:
            # Moving between tabs and pages replaces the results only: the message of the
            # page first shown (« Bienvenue… ») goes with its first view.
            body = _CLEARED_ALERTS + body
    else:
        body = render_page("seller/orders.html", q=query, results_html=results,
                           checklist=setup_checklist(current_seller()), **context)
    response = make_response(body, status)
    # The same URL answers a page or a fragment: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


_CLEARED_ALERTS = '<div id="alerts" data-hx-swap-oob="innerHTML"></div>'


@bp.get("/commandes")
@reads_only
def orders() -> Response:
    return orders_page(request.args)


@bp.get("/commandes/export.csv")
def export_csv() -> Response:
    tab, query = _list_filter()
    stamp = paris_today(now()).isoformat()
    filename = f"commandes-{tab.slug}-{stamp}.csv"
    rows = export.csv_chunks(current_user.id, tab, query)
    response = Response(stream_with_context(rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/commandes/lien-suivi")
def tracking_link_preview() -> str:
    preview = tracking_preview(
        (request.args.get("carrier") or "")[:32],
        (request.args.get("tracking_number") or "")[:100],
        (request.args.get("carrier_url") or "")[:600],
    )
    return render_template("seller/_preview.html", preview=preview)


@bp.get("/commandes/<reference>")
def order_detail(reference: str) -> str:
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    return render_template("seller/order.html", **order_context(order))


@bp.get("/commandes/<reference>/preparation")
def preparation_slip(reference: str) -> str:
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    return render_template("seller/slip.html", order=order, labels=STATUS_LABELS)


@bp.get("/commandes/<reference>/expedition")
def ship_form(reference: str) -> BaseResponse | str:
    """The ship form alone, fetched by htmx after an action; without htmx, the order page."""
    return _form_fragment(reference, "next", "seller/_ship_form.html", "can_ship")


@bp.get("/commandes/<reference>/remboursement")
def refund_form(reference: str) -> BaseResponse | str:
    """« Remboursement effectué » alone, fetched by htmx after an action that changed what is
    due (the action's answer stays small); without htmx, the order page."""
    return _form_fragment(reference, "payment", "seller/_refund_form.html", "refund_due")


@bp.get("/commandes/<reference>/cloture")
def close_remainder_form(reference: str) -> BaseResponse | str:
    """« Clore le reste »'s form alone, fetched by htmx when its panel is first opened after an
    action; without htmx, the order page."""
    return _form_fragment(reference, "close", "seller/_close_form.html", "can_close")


def _form_fragment(reference: str, anchor: str, template: str, shown: str) -> BaseResponse | str:
    """A form of the order page on its own (an action's answer stays small without it), or
    nothing when the context's `shown` says it no longer applies: the slot just goes away."""
    if not wants_fragment():
        if queries.order_id(current_user.id, reference) is None:
            abort(404)  # like every URL naming an order that is not this seller's
        response = redirect(url_for("seller.order_detail", reference=reference) + f"#{anchor}")
        response.vary.add("HX-Request")
        return response
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    context = order_context(order)
    if not context[shown]:
        return ""
    return render_template(template, **context)
