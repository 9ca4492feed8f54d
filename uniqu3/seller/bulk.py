"""The selection of « Commandes »: confirm payments, print the slips, activate the receipt
confirmations of the orders ticked (uniqu3.workflow.bulk does the work, order by order).

One form posts every action: the rows' boxes (`ref`), « Tout sélectionner » (`tout`, whose
value lists the page's references, so it works without JavaScript), the list's filter and
page (to show the same list again), and the button pressed (`action`). The answer is the
list again with the summary above it: the whole page, or for htmx the results part.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..services import workflow
from ..workflow import Actor, InvalidInput, NotFound, bulk
from ..workflow.loading import load_orders
from .blueprint import bp
from .views import orders_page

ACTIONS = ("paiements", "reception", "bons")


def _references() -> list[str]:
    raw = request.form.getlist("ref")
    raw += " ".join(request.form.getlist("tout")).split()
    return bulk.clean_references(raw)


@bp.post("/commandes/selection")
def bulk_action() -> Response | str:
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400)
    try:
        selected = bulk.select_orders(db.session(), current_user.id, _references())
    except NotFound:
        abort(404)  # like every URL naming an order that is not this seller's
    except InvalidInput as error:
        return orders_page(request.form, status=422, action=action, error=error.translated(_))
    if action == "bons":
        return _slips([item.order_id for item in selected])
    actor = Actor.seller(current_user.email)
    if action == "paiements":
        outcomes = bulk.confirm_payments(workflow(), selected, actor=actor)
    else:
        outcomes = bulk.request_receipts(workflow(), selected, actor=actor)
    # The workflow's reasons in the reader's language (its refusals carry their French template).
    reasons = {o.reference: o.error.translated(_) for o in outcomes if o.error is not None}
    return orders_page(request.form, action=action, outcomes=outcomes, reasons=reasons,
                       Outcome=bulk.Outcome)


def _slips(order_ids: list[int]) -> str:
    """One printable document, a page per order, in the order of the list."""
    found = load_orders(db.session(), order_ids, shipments=False)
    orders = [found[order_id] for order_id in order_ids]
    return render_template("seller/slips.html", orders=orders)
