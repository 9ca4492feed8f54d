"""GET /api/v1/orders: the key's orders, most recently updated first, a page at a time.

Keyset pagination on (updated_at, id), the order of an index (no OFFSET: a page costs the
same deep in the list). The cursor is opaque to the client: the last order's position,
base64url-encoded. An order changed while a client pages moves to the front; `updated_since`
with the time of the previous sync finds it again.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import and_, or_

from ..extensions import db
from ..models import Order
from ..security import storable_id
from ..timeutil import as_utc
from ..workflow.loading import select_orders
from .auth import current_client
from .blueprint import bp
from .errors import ApiError
from .openapi import UNAUTHORIZED, Answer, Operation, error, register
from .schemas.actions import OrderList, OrderListQuery
from .serialize import orders_json
from .validation import INVALID, refused

BAD_CURSOR = _l("Curseur invalide : donnez le « next_cursor » de la page précédente tel quel.")


@bp.get("/orders")
def list_orders() -> Response:
    client = current_client()
    query = _query()
    after = _decode_cursor(query.cursor) if query.cursor else None
    if client.reads_nothing():
        return jsonify({"orders": [], "next_cursor": None})
    stmt = (select_orders(seller=True, problems=True, refunds=True)
            .order_by(Order.updated_at.desc(), Order.id.desc()))
    if client.seller_id is not None:
        stmt = stmt.where(Order.seller_id == client.seller_id)
    if query.status is not None:
        stmt = stmt.where(Order.status == query.status)
    if query.updated_since is not None:
        stmt = stmt.where(Order.updated_at >= query.updated_since)
    if query.external_id is not None:
        stmt = stmt.where(Order.external_id == query.external_id)
    if after is not None:
        at, last_id = after
        stmt = stmt.where(or_(Order.updated_at < at, and_(Order.updated_at == at, Order.id < last_id)))
    orders = list(db.session.scalars(stmt.limit(query.limit + 1)))
    more = len(orders) > query.limit
    orders = orders[:query.limit]
    return jsonify({"orders": orders_json(orders),
                    "next_cursor": _encode_cursor(orders[-1]) if more else None})


def _query() -> OrderListQuery:
    try:
        return OrderListQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise refused(exc) from exc


def _encode_cursor(order: Order) -> str:
    raw = json.dumps([as_utc(order.updated_at).isoformat(), order.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, last_id = json.loads(raw)
        at = datetime.fromisoformat(when)
        if at.tzinfo is None or type(last_id) is not int or not storable_id(last_id):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(422, INVALID, fields={"cursor": [BAD_CURSOR]}) from exc
    return at, last_id


register(Operation(
    "get", "/orders", "listOrders", "The key's orders, most recently updated first, a page at a time.",
    description="Keyset pagination: give `next_cursor` as `cursor` for the next page. To follow "
                "changes, ask with `updated_since` the time of the previous sync.",
    query=OrderListQuery,
    answers={
        200: Answer("A page of orders.", OrderList, links={
            "GetFirstOrder": {"operationId": "getOrder",
                              "parameters": {"reference": "$response.body#/orders/0/reference"}},
            "NextPage": {"operationId": "listOrders",
                         "parameters": {"cursor": "$response.body#/next_cursor"}},
        }),
        401: UNAUTHORIZED,
        422: error("A parameter is refused: each one by name in `fields`."),
    },
))
