"""POST /api/v1/orders, GET /api/v1/orders/<reference>, GET /api/v1/openapi.json."""

from __future__ import annotations

import re

from flask import Response, jsonify
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .. import intake
from ..extensions import db
from ..workflow import Actor, Conflict
from ..workflow.loading import load_new_order, load_order
from .auth import current_client
from .blueprint import bp
from .body import json_body
from .errors import ApiError
from .openapi import document
from .schemas.orders import REFERENCE_PATTERN
from .serialize import order_json, order_links

_REFERENCE = re.compile(REFERENCE_PATTERN)


@bp.post("/orders")
def create_order() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    client = current_client()
    body = json_body()
    scope = client.seller_email if client.seller_id is not None else None
    try:
        data = intake.read_order(body, session=db.session(), seller_scope=scope)
        submitted = intake.submit(data, actor=Actor.api(client.name), source="api")
    except intake.InvalidOrder as exc:
        raise ApiError(422, exc.message, fields=exc.fields) from exc
    except Conflict as exc:
        message = exc.translated(gettext)
        raise ApiError(409, message, fields={"external_id": [message]}) from exc
    if submitted.created:
        order = load_new_order(db.session(), submitted.order_id)
        return jsonify(order_json(order)), 201, {"Location": order_links(order.reference)["self"]}
    # A replay answers with the order as it is now (it may have moved on since).
    current = load_order(db.session(), order_id=submitted.order_id, seller=True, problems=True)
    assert current is not None
    return jsonify(order_json(current)), 200


@bp.get("/orders/<reference>")
def get_order(reference: str) -> Response:
    client = current_client()
    order = None
    if _REFERENCE.fullmatch(reference) and not client.reads_nothing():
        order = load_order(db.session(), reference=reference, seller_id=client.seller_id, seller=True,
                           problems=True)
    if order is None:
        raise ApiError(404, _l("Commande introuvable : %(reference)s.", reference=reference[:40]))
    return jsonify(order_json(order))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


@bp.after_request
def _no_store(response: Response) -> Response:
    # Orders carry personal data: no cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response
