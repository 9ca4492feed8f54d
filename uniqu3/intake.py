"""An order as the marketplace sends it (API body, CLI import) read into an `OrderInput`.

Every problem is collected with the path of its field (`lines[2].quantity`, `buyer.email`,
`shipping_address.postal_code`) so a storefront can fix them all at once. The rules here are
the ones the OpenAPI document states (`uniqu3/api/openapi.py`): change both together.

Messages are lazy French strings: the API renders them in the request's language, the CLI in
the default one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from .models import Order, Seller
from .services import workflow
from .workflow import Actor, Address, LineInput, NotFound, OrderInput, rules
from .workflow import InvalidInput as WorkflowInvalidInput

# Column sizes (uniqu3/models.py) and the limits stated in the OpenAPI document.
MAX_EXTERNAL_ID = 100
MAX_NAME = 200
MAX_ADDRESS_LINE = 200
MAX_CITY = 100
MAX_SKU = 64
MAX_TITLE = 300
#: 999 999,99 € a unit; an order's total must fit the database's 32-bit integer of cents.
MAX_UNIT_PRICE_CENTS = 99_999_999
MAX_TOTAL_CENTS = 2**31 - 1

#: Patterns shared with the OpenAPI document (ECMA-262 compatible, used with fullmatch here).
FR_POSTAL_CODE_PATTERN = r"[0-9]{5}"
POSTAL_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]"
PRICE_PATTERN = r"[0-9]{1,6}(?:\.[0-9]{1,2})?"
#: No control character (C0 and DEL) in any text.
TEXT_PATTERN = r"[^\u0000-\u001f\u007f]*"

_FR_POSTAL_CODE = re.compile(FR_POSTAL_CODE_PATTERN)
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
_PRICE = re.compile(PRICE_PATTERN)
_NEGATIVE_PRICE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")
_TOO_PRECISE_PRICE = re.compile(r"[0-9]+\.[0-9]{3,}")
_CONTROL = re.compile(r"[\u0000-\u001f\u007f]")
_CURRENCY_SHAPE = re.compile(r"[A-Z]{3}")
_COUNTRY_SHAPE = re.compile(r"[A-Za-z]{2}")

#: ISO 3166-1 alpha-2: the 249 officially assigned codes.
_ISO_3166_ALPHA_2 = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES: frozenset[str] = frozenset(_ISO_3166_ALPHA_2.split())

REQUIRED = _l("Champ obligatoire.")
NOT_TEXT = _l("Texte attendu.")
NOT_OBJECT = _l("Objet JSON attendu.")
NOT_LIST = _l("Liste attendue.")
EMPTY = _l("Ne peut pas être vide.")
CONTROL_CHARS = _l("Les caractères de contrôle (retours à la ligne, tabulations…) sont interdits.")
BAD_EMAIL = _l("Adresse e-mail invalide.")
UNKNOWN_SELLER = _l("Vendeur inconnu ou inactif.")


def too_long(limit: int) -> Any:
    return _l("%(max)d caractères au plus.", max=limit)


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
class _Reader:
    """Walks the body, keeping every error with its path."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Any]] = {}

    def error(self, path: str, message: Any) -> None:
        self.errors.setdefault(path, []).append(message)

    def member(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        value = obj.get(key)
        if value is None and required:
            self.error(path, REQUIRED)
        return value

    def object(self, obj: dict[str, Any], key: str, path: str) -> dict[str, Any] | None:
        value = self.member(obj, key, path)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(path, NOT_OBJECT)
            return None
        return value

    def text(
        self, obj: dict[str, Any], key: str, path: str, *, limit: int, required: bool = True
    ) -> str:
        """A one-line text: within `limit` characters as sent, trimmed, no control character."""
        value = self.member(obj, key, path, required=required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(path, NOT_TEXT)
            return ""
        ok = True
        if len(value) > limit:
            self.error(path, too_long(limit))
            ok = False
        if _CONTROL.search(value) or not _encodable(value):
            self.error(path, CONTROL_CHARS)
            ok = False
        if ok and required and not value.strip():
            self.error(path, EMPTY)
        return value.strip() if ok else ""

    def email(self, obj: dict[str, Any], key: str, path: str) -> str:
        value = self.member(obj, key, path)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(path, NOT_TEXT)
            return ""
        if not rules.email_is_valid(value):
            self.error(path, BAD_EMAIL)
            return ""
        return value

    def address(self, body: dict[str, Any], key: str) -> Address | None:
        obj = self.object(body, key, key)
        if obj is None:
            return None
        name = self.text(obj, "name", f"{key}.name", limit=MAX_NAME)
        line1 = self.text(obj, "line1", f"{key}.line1", limit=MAX_ADDRESS_LINE)
        line2 = self.text(obj, "line2", f"{key}.line2", limit=MAX_ADDRESS_LINE, required=False)
        city = self.text(obj, "city", f"{key}.city", limit=MAX_CITY)
        country = self.country(obj.get("country"), f"{key}.country")
        postal_code = self.postal_code(obj.get("postal_code"), country, f"{key}.postal_code")
        return Address(name=name, line1=line1, line2=line2, postal_code=postal_code, city=city,
                       country=country)

    def country(self, value: Any, path: str) -> str:
        if value is None:
            self.error(path, REQUIRED)
        elif not isinstance(value, str):
            self.error(path, NOT_TEXT)
        elif value in COUNTRY_CODES:
            return value
        elif _COUNTRY_SHAPE.fullmatch(value) and value.upper() in COUNTRY_CODES:
            self.error(path, _l("Le code pays s'écrit en majuscules : %(code)s.", code=value.upper()))
        elif _COUNTRY_SHAPE.fullmatch(value):
            self.error(path, _l("Code pays inconnu : %(code)s (ISO 3166-1 alpha-2 attendu, ex. FR).",
                                code=value))
        else:
            self.error(path, _l("Code pays ISO 3166-1 alpha-2 attendu (deux lettres, ex. FR)."))
        return ""

    def postal_code(self, value: Any, country: str, path: str) -> str:
        if value is None:
            self.error(path, REQUIRED)
        elif not isinstance(value, str):
            self.error(path, NOT_TEXT)
        elif country == "FR":
            if _FR_POSTAL_CODE.fullmatch(value):
                return value
            self.error(path, _l("Code postal français invalide : 5 chiffres attendus (ex. 69003)."))
        elif _POSTAL_CODE.fullmatch(value):
            return value
        else:
            self.error(path, _l(
                "Code postal invalide : de 2 à 10 lettres, chiffres, espaces ou tirets."
            ))
        return ""

    def currency(self, value: Any) -> str:
        if value is None:
            self.error("currency", REQUIRED)
        elif rules.currency_accepted(value):
            return value
        elif isinstance(value, str) and _CURRENCY_SHAPE.fullmatch(value):
            self.error("currency", _l(
                "Devise non acceptée : %(code)s. Seul l'euro (EUR) est accepté.", code=value
            ))
        else:
            self.error("currency", _l("Code devise ISO 4217 attendu : EUR."))
        return ""

    def quantity(self, value: Any, path: str) -> int:
        if value is None:
            self.error(path, REQUIRED)
            return 0
        # JSON has one number type: 2.0 is the integer 2, as JSON Schema says.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, _l("Nombre entier attendu."))
            return 0
        if not rules.quantity_accepted(value):
            self.error(path, _l("La quantité va de 1 à %(max)d.", max=rules.MAX_QUANTITY))
            return 0
        return value

    def price(self, value: Any, path: str) -> int:
        if value is None:
            self.error(path, REQUIRED)
            return 0
        if not isinstance(value, str):
            self.error(path, _l('Prix attendu en texte décimal, avec un point (ex. "34.90").'))
            return 0
        if _PRICE.fullmatch(value):
            euros, _, decimals = value.partition(".")
            return int(euros) * 100 + int(decimals.ljust(2, "0"))
        if _NEGATIVE_PRICE.fullmatch(value):
            self.error(path, _l("Le prix ne peut pas être négatif."))
        elif _TOO_PRECISE_PRICE.fullmatch(value):
            self.error(path, _l("Le prix a au plus deux décimales."))
        elif re.fullmatch(r"[0-9]{7,}(?:\.[0-9]{1,2})?", value):
            self.error(path, _l("Prix trop élevé : 999999.99 au plus."))
        else:
            self.error(path, _l('Prix invalide : nombre décimal attendu, avec un point (ex. "34.90").'))
        return 0

    def lines(self, body: dict[str, Any]) -> tuple[LineInput, ...]:
        raw = self.member(body, "lines", "lines")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.error("lines", NOT_LIST)
            return ()
        if not rules.line_count_accepted(len(raw)):
            if raw:
                self.error("lines", _l("Une commande a au plus %(max)d lignes.", max=rules.MAX_LINES))
            else:
                self.error("lines", _l("Une commande a au moins une ligne."))
            return ()
        lines: list[LineInput] = []
        for i, item in enumerate(raw):
            path = f"lines[{i}]"
            if not isinstance(item, dict):
                self.error(path, NOT_OBJECT)
                continue
            sku = self.text(item, "sku", f"{path}.sku", limit=MAX_SKU)
            title = self.text(item, "title", f"{path}.title", limit=MAX_TITLE)
            quantity = self.quantity(item.get("quantity"), f"{path}.quantity")
            price = self.price(item.get("unit_price"), f"{path}.unit_price")
            lines.append(LineInput(sku=sku, title=title, quantity=quantity, unit_price_cents=price))
        # Read from the lines that are objects (a line that is not one was reported above).
        objects = [i for i, item in enumerate(raw) if isinstance(item, dict)]
        for at, first in rules.repeated_skus([line.sku for line in lines]).items():
            sku = lines[at].sku
            self.error(f"lines[{objects[at]}].sku", _l(
                "La référence %(sku)s figure déjà en lines[%(index)d].", sku=sku, index=objects[first]
            ))
        total = sum(line.quantity * line.unit_price_cents for line in lines)
        if total > MAX_TOTAL_CENTS:
            self.error("lines", _l("Le total de la commande dépasse le maximum accepté (21474836.47)."))
        return tuple(lines)


def _encodable(value: str) -> bool:
    # JSON allows lone surrogates ("\ud800"); no database can store them.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_order(body: Any) -> OrderInput:
    """The order in `body` (a decoded JSON value), or `InvalidOrder` with every problem."""
    if not isinstance(body, dict):
        raise InvalidOrder({}, _l("Une commande est un objet JSON."))
    r = _Reader()
    external_id = r.text(body, "external_id", "external_id", limit=MAX_EXTERNAL_ID)
    seller_email = r.email(body, "seller", "seller")
    buyer = r.object(body, "buyer", "buyer")
    buyer_name = buyer_email = ""
    if buyer is not None:
        buyer_name = r.text(buyer, "name", "buyer.name", limit=MAX_NAME)
        buyer_email = r.email(buyer, "email", "buyer.email")
    billing = r.address(body, "billing_address")
    shipping = r.address(body, "shipping_address")
    currency = r.currency(body.get("currency"))
    lines = r.lines(body)
    if r.errors:
        raise InvalidOrder(r.errors)
    assert billing is not None and shipping is not None
    return OrderInput(
        external_id=external_id,
        seller_email=seller_email,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        billing_address=billing,
        shipping_address=shipping,
        currency=currency,
        lines=lines,
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
