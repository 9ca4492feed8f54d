"""An order as the marketplace sends it (API body, CLI import) read into an `OrderInput`.

The body is checked by its declared model (`uniqu3.api.schemas.orders.OrderInput`, also the
OpenAPI document's schema); every problem is kept with the path of its field
(`lines[2].quantity`, `buyer.email`, `shipping_address.postal_code`) so a storefront can fix
them all at once. Then the rules between lines (a SKU once, the total's limit) and the
seller's (known, active, the key's own).

Messages are lazy French strings: the API renders them in the request's language, the CLI in
the default one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from .api.schemas import orders as schema
from .api.schemas.fields import MAX_TOTAL_CENTS, Price, Quantity, field_errors
from .models import Order, Seller
from .services import workflow
from .workflow import Actor, Address, LineInput, NotFound, OrderInput, PickupPoint, rules
from .workflow import InvalidInput as WorkflowInvalidInput

UNKNOWN_SELLER = _l("Vendeur inconnu ou inactif.")


class InvalidOrder(Exception):
    """The order is refused; `fields` maps each field's path to its messages."""

    def __init__(self, fields: dict[str, list[Any]], message: Any = None) -> None:
        self.fields = fields
        self.message = message if message is not None else _l("La commande contient des erreurs.")
        super().__init__(", ".join(fields) or "order")


@dataclass
class Submitted:
    order: Order  # as the workflow left it: committed or rolled back, so expired
    created: bool  # False: the same order came again (a replay), nothing was done

    @property
    def order_id(self) -> int:
        """The order's id without reading the expired row again (`order.id` would)."""
        identity = sa_inspect(self.order).identity
        assert identity is not None  # committed or rolled back, the order has its key
        return int(identity[0])


# ----------------------------------------------------------------------------- reading
_ORDER = TypeAdapter(schema.OrderInput)
_SKU: TypeAdapter[str] = TypeAdapter(schema.Sku)
_QUANTITY: TypeAdapter[int] = TypeAdapter(Quantity)
_PRICE: TypeAdapter[int] = TypeAdapter(Price)


@dataclass(frozen=True)
class _LineFacts:
    """What the rules between lines need of a line; "" and 0 for a value refused in itself."""

    sku: str
    amount_cents: int


def _valid_or(adapter: TypeAdapter[Any], value: Any, default: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return default


def _facts_of_refused_body(raw: Any) -> list[_LineFacts | None]:
    """Each line's facts when the body was refused: its values accepted one by one (None for
    a line that is not an object), so the rules between lines are told at once too."""
    if not isinstance(raw, list) or not rules.line_count_accepted(len(raw)):
        return []
    facts: list[_LineFacts | None] = []
    for item in raw:
        if not isinstance(item, dict):
            facts.append(None)
            continue
        quantity = _valid_or(_QUANTITY, item.get("quantity"), 0)
        facts.append(_LineFacts(_valid_or(_SKU, item.get("sku"), ""),
                                quantity * _valid_or(_PRICE, item.get("unit_price"), 0)))
    return facts


def _between_lines(facts: Sequence[_LineFacts | None], shipping_cents: int) -> dict[str, list[Any]]:
    """A SKU appears once in an order; the total (items and shipping) fits what can be stored."""
    errors: dict[str, list[Any]] = {}
    objects = [i for i, line in enumerate(facts) if line is not None]
    lines = [line for line in facts if line is not None]
    for at, first in rules.repeated_skus([line.sku for line in lines]).items():
        errors.setdefault(f"lines[{objects[at]}].sku", []).append(_l(
            "La référence %(sku)s figure déjà en lines[%(index)d].", sku=lines[at].sku, index=objects[first]
        ))
    if sum(line.amount_cents for line in lines) + shipping_cents > MAX_TOTAL_CENTS:
        errors.setdefault("lines", []).append(
            _l("Le total de la commande dépasse le maximum accepté (21474836.47).")
        )
    return errors


def _merge(into: dict[str, list[Any]], more: dict[str, list[Any]]) -> dict[str, list[Any]]:
    for path, messages in more.items():
        into.setdefault(path, []).extend(messages)
    return into


def _address(value: schema.AddressInput) -> Address:
    return Address(name=value.name, line1=value.line1, line2=value.line2,
                   postal_code=value.postal_code, city=value.city, country=value.country)


def _pickup_point(value: schema.PickupPointInput | None) -> PickupPoint | None:
    if value is None:
        return None
    return PickupPoint(carrier=value.carrier, id=value.id, name=value.name, line1=value.line1,
                       line2=value.line2, postal_code=value.postal_code, city=value.city,
                       country=value.country)


def parse_order(body: Any) -> OrderInput:
    """The order in `body` (a decoded JSON value), or `InvalidOrder` with every problem."""
    if not isinstance(body, dict):
        raise InvalidOrder({}, _l("Une commande est un objet JSON."))
    try:
        model = _ORDER.validate_python(body)
    except ValidationError as exc:
        raise InvalidOrder(_merge(field_errors(exc), _between_lines(
            _facts_of_refused_body(body.get("lines")),
            _valid_or(_PRICE, body.get("shipping_price", "0"), 0),
        ))) from None
    errors = _between_lines([_LineFacts(line.sku, line.quantity * line.unit_price)
                             for line in model.lines], model.shipping_price)
    if errors:
        raise InvalidOrder(errors)
    return OrderInput(
        external_id=model.external_id,
        seller_email=model.seller,
        buyer_name=model.buyer.name,
        buyer_email=model.buyer.email,
        billing_address=_address(model.billing_address),
        shipping_address=_address(model.shipping_address),
        currency=model.currency,
        lines=tuple(LineInput(sku=line.sku, title=line.title, quantity=line.quantity,
                              unit_price_cents=line.unit_price) for line in model.lines),
        shipping_cents=model.shipping_price,
        buyer_phone=model.buyer.phone,
        pickup_point=_pickup_point(model.pickup_point),
    )


def read_order(body: Any, *, session: Session, seller_scope: str | None = None) -> OrderInput:
    """`parse_order`, plus the seller's rules, so that one answer lists every problem.

    `seller_scope`: the only seller this caller may act for (an API key bound to a seller).
    The seller's existence is only looked up here when other errors are already reported;
    otherwise the workflow checks it (one query less on the usual path).
    """
    try:
        data = parse_order(body)
    except InvalidOrder as exc:
        seller = body.get("seller") if isinstance(body, dict) else None
        if isinstance(seller, str) and "seller" not in exc.fields and exc.fields:
            problem = _scope_problem(seller, seller_scope)
            if problem is None:
                problem = seller_problem(session, seller)
            if problem is not None:
                exc.fields["seller"] = [problem]
        raise
    problem = _scope_problem(data.seller_email, seller_scope)
    if problem is not None:
        raise InvalidOrder({"seller": [problem]})
    return data


def _scope_problem(seller: str, scope: str | None) -> Any | None:
    if scope is None or seller.strip().lower() == scope.lower():
        return None
    return _l("Cette clé d'API n'enregistre que les commandes du vendeur %(email)s.", email=scope)


def seller_problem(session: Session, email: str) -> Any | None:
    """Why orders cannot be recorded for this seller, or None."""
    active = session.scalar(
        select(Seller.active).where(func.lower(Seller.email) == email.strip().lower())
    )
    return None if active else UNKNOWN_SELLER


def submit(data: OrderInput, *, actor: Actor, source: str) -> Submitted:
    """Record the order through the workflow (idempotent on seller + external id).

    Raises `InvalidOrder` for the workflow's refusals of a field, and lets
    `uniqu3.workflow.Conflict` through (same external id, another content).
    """
    try:
        result = workflow().place_order(data, actor=actor, source=source)
    except NotFound as exc:
        raise InvalidOrder({exc.field or "seller": [UNKNOWN_SELLER]}) from exc
    except WorkflowInvalidInput as exc:
        raise InvalidOrder({exc.field or "": [exc.translated(gettext)]}) from exc
    return Submitted(order=result.order, created=result.changed)
