"""The field types of the API's bodies: each one checks a value and states it in JSON Schema.

A type is declared once (`Text(100)`, `Email`, `Quantity`, `Price`…): the same numbers give
its check and its schema (`maxLength`, `pattern`, `minimum`…), so the OpenAPI document cannot
drift from what is enforced. A refused value raises `problem(...)` with the French messages
(lazy: the API renders them in the request's language, the CLI in the default one);
`field_errors` turns pydantic's errors into `{"lines[2].quantity": [message, …]}`.

Rules that are the workflow's (currency, quantities, e-mail, postal codes) are asked of
`uniqu3.workflow.rules`; this module only words them and describes the shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from ...workflow import rules

#: No control character (C0 and DEL) in any text (ECMA-262 compatible, for the document).
TEXT_PATTERN = r"[^\u0000-\u001f\u007f]*"
PRICE_PATTERN = r"[0-9]{1,6}(?:\.[0-9]{1,2})?"
#: 999 999,99 € a unit; an order's total must fit the database's 32-bit integer of cents.
MAX_PRICE_CENTS = 99_999_999
MAX_TOTAL_CENTS = 2**31 - 1

_CONTROL = re.compile(r"[\u0000-\u001f\u007f]")
_PRICE = re.compile(PRICE_PATTERN)
_NEGATIVE_PRICE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")
_TOO_PRECISE_PRICE = re.compile(r"[0-9]+\.[0-9]{3,}")
_TOO_HIGH_PRICE = re.compile(r"[0-9]{7,}(?:\.[0-9]{1,2})?")
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
INVALID = _l("Valeur invalide.")

#: The error type of every refusal worded here; its context carries the messages.
PROBLEM = "uniqu3_problem"


def problem(*messages: Any) -> PydanticCustomError:
    """The error to raise for a refused value, with every reason (lazy French messages)."""
    return PydanticCustomError(PROBLEM, "refused", {"messages": list(messages)})


class Checked:
    """`Annotated` metadata: the value's whole check, and the JSON Schema that states it."""

    def __init__(self, check: Callable[[Any], Any], schema: dict[str, Any]) -> None:
        self.check = check
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return dict(self.schema)


def too_long(limit: int) -> Any:
    return _l("%(max)d caractères au plus.", max=limit)


def _present(value: Any) -> Any:
    if value is None:
        raise problem(REQUIRED)
    return value


def _string(value: Any) -> str:
    if not isinstance(_present(value), str):
        raise problem(NOT_TEXT)
    return value


def _encodable(value: str) -> bool:
    # JSON allows lone surrogates ("\ud800"); no database can store them.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ----------------------------------------------------------------------------- texts
def _text_check(limit: int, required: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        """A one-line text within `limit` characters as sent, trimmed, no control character."""
        if value is None and not required:
            return ""
        value = _string(value)
        messages = []
        if len(value) > limit:
            messages.append(too_long(limit))
        if _CONTROL.search(value) or not _encodable(value):
            messages.append(CONTROL_CHARS)
        if not messages and required and not value.strip():
            messages.append(EMPTY)
        if messages:
            raise problem(*messages)
        return value.strip()

    return check


def text_schema(limit: int, *, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": limit, "pattern": f"^{TEXT_PATTERN}$"}
    if required:
        schema["minLength"] = 1
    else:
        schema["type"] = ["string", "null"]
    return schema


def text(limit: int, *, required: bool = True, description: str = "") -> Checked:
    """A one-line text of at most `limit` characters: `Annotated[str, text(100)]`. Required
    texts are not blank; an optional one absent or null is ""."""
    schema = text_schema(limit, required=required)
    if description:
        schema["description"] = description
    return Checked(_text_check(limit, required), schema)


# ----------------------------------------------------------------------------- e-mail
def _email(value: Any) -> str:
    if not rules.email_is_valid(_string(value)):
        raise problem(BAD_EMAIL)
    return value  # as sent: the mailer writes it as it is


Email = Annotated[str, Checked(_email, {
    "type": "string",
    "maxLength": rules.EMAIL_MAX,
    # RFC 5321's mailbox, as the API checks it; in ASCII: e-mails are sent without SMTPUTF8.
    "format": "email",
    "examples": ["camille@example.fr"],
})]


# ----------------------------------------------------------------------------- phone
def _phone(value: Any) -> str | None:
    if value is None:
        return None
    number = rules.phone_e164(_string(value))
    if number is None:
        raise problem(rules.phone_problem(value, _l))
    return number


#: A phone number, international or French, read as E.164; absent or null is None.
Phone = Annotated[str | None, Checked(_phone, {
    "type": ["string", "null"],
    "maxLength": rules.PHONE_MAX,
    "description": "International (E.164, « +33612345678 ») or French national format "
                   "(« 06 12 34 56 78 »); stored and shown in E.164.",
    "examples": ["+33612345678", "06 12 34 56 78"],
})]


# ----------------------------------------------------------------------------- addresses
def _country(value: Any) -> str:
    value = _string(value)
    if value in COUNTRY_CODES:
        return value
    if _COUNTRY_SHAPE.fullmatch(value) and value.upper() in COUNTRY_CODES:
        raise problem(_l("Le code pays s'écrit en majuscules : %(code)s.", code=value.upper()))
    if _COUNTRY_SHAPE.fullmatch(value):
        raise problem(_l("Code pays inconnu : %(code)s (ISO 3166-1 alpha-2 attendu, ex. FR).", code=value))
    raise problem(_l("Code pays ISO 3166-1 alpha-2 attendu (deux lettres, ex. FR)."))


Country = Annotated[str, Checked(_country, {
    "type": "string",
    "enum": sorted(COUNTRY_CODES),
    "description": "ISO 3166-1 alpha-2, upper case.",
})]

#: A postal code is checked against its country by the model that holds both
#: (`postal_code_of`); alone, it is a text.
PostalCode = Annotated[str, Checked(_string, {
    "type": "string",
    "pattern": f"^{rules.POSTAL_CODE_PATTERN}$",
    "description": "FR: 5 digits. Elsewhere: 2 to 10 letters, digits, spaces or dashes.",
})]

#: The French rule on top of the general one, for an object with `country` and `postal_code`.
FRENCH_POSTAL_CODE_SCHEMA: dict[str, Any] = {
    "if": {"properties": {"country": {"const": "FR"}}, "required": ["country"]},
    "then": {"properties": {"postal_code": {"pattern": f"^{rules.FR_POSTAL_CODE_PATTERN}$"}}},
}


def postal_code_of(code: str, country: str | None) -> str:
    """`code` for `country` (None when the country itself was refused: the general rule)."""
    reason = rules.postal_code_problem(code, country or "", _l)
    if reason is not None:
        raise problem(reason)
    return code


# ----------------------------------------------------------------------------- order
def _currency(value: Any) -> str:
    if rules.currency_accepted(_present(value)):
        return str(value)
    if isinstance(value, str) and _CURRENCY_SHAPE.fullmatch(value):
        raise problem(_l("Devise non acceptée : %(code)s. Seul l'euro (EUR) est accepté.", code=value))
    raise problem(_l("Code devise ISO 4217 attendu : EUR."))


Currency = Annotated[str, Checked(_currency, {
    "type": "string", "enum": [rules.CURRENCY],
})]


def _quantity(value: Any) -> int:
    _present(value)
    # JSON has one number type: 2.0 is the integer 2, as JSON Schema says.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem(_l("Nombre entier attendu."))
    if not rules.quantity_accepted(value):
        raise problem(_l("La quantité va de 1 à %(max)d.", max=rules.MAX_QUANTITY))
    return value


Quantity = Annotated[int, Checked(_quantity, {
    "type": "integer", "minimum": 1, "maximum": rules.MAX_QUANTITY,
})]


def _price(value: Any) -> int:
    """Euros as a decimal string ("34.90") to cents."""
    if not isinstance(_present(value), str):
        raise problem(_l('Prix attendu en texte décimal, avec un point (ex. "34.90").'))
    if _PRICE.fullmatch(value):
        euros, _, decimals = value.partition(".")
        return int(euros) * 100 + int(decimals.ljust(2, "0"))
    if _NEGATIVE_PRICE.fullmatch(value):
        raise problem(_l("Le prix ne peut pas être négatif."))
    if _TOO_PRECISE_PRICE.fullmatch(value):
        raise problem(_l("Le prix a au plus deux décimales."))
    if _TOO_HIGH_PRICE.fullmatch(value):
        raise problem(_l("Prix trop élevé : 999999.99 au plus."))
    raise problem(_l('Prix invalide : nombre décimal attendu, avec un point (ex. "34.90").'))


#: A price as sent ("34.90"), read as cents.
Price = Annotated[int, Checked(_price, {
    "type": "string",
    "pattern": f"^{PRICE_PATTERN}$",
    "description": "Euros as a decimal string, at most 2 decimals, not negative.",
    "examples": ["34.90"],
})]


def bounded_list(maximum: int, too_many: Any, too_few: Any) -> Callable[[Any], Any]:
    """A check run before a list's items: 1 to `maximum` of them (the items are not read
    when the count is wrong, as one message says it all)."""

    def check(value: Any) -> Any:
        if isinstance(value, list) and not 1 <= len(value) <= maximum:
            raise problem(too_many if value else too_few)
        return value

    return check


# ----------------------------------------------------------------------------- errors
def path_of(loc: Sequence[int | str]) -> str:
    """pydantic's location as the API names it: `lines[2].quantity`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _messages(error: Any) -> list[Any]:
    kind = error["type"]
    if kind == PROBLEM:
        return list(error["ctx"]["messages"])
    if kind == "missing" or error.get("input", ...) is None:
        return [REQUIRED]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return [NOT_OBJECT]
    if kind == "list_type":
        return [NOT_LIST]
    return [INVALID]


def field_errors(exc: ValidationError) -> dict[str, list[Any]]:
    """Every problem by the path of its field, in the body's order."""
    fields: dict[str, list[Any]] = {}
    for error in exc.errors(include_url=False):
        fields.setdefault(path_of(error["loc"]), []).extend(_messages(error))
    return fields
