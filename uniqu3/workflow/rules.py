"""Rules, one place for every door (web forms, CLI, API, the workflow, the mailer).

- which statuses allow which action (`can_ship`, `can_close`, `can_cancel`, `can_undo_payment`; for a
  parcel: `can_report`, `can_confirm`, `can_declare_lost`, `can_edit_parcel`);
- what an order may hold (currency, number of lines, quantities, SKUs once each);
- what people type: an e-mail address, a phone number, a postal code, a shop's name. A rule
  on typed text returns why the value is refused (French, or through the caller's `gettext`,
  with the values filled in), or None when it is accepted.

Each door words its refusals for its own reader (the API names the field's path), but the
decision is always the one taken here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ..models import Order, OrderStatus, ShipmentStatus
from .errors import InvalidInput, InvalidTransition

Gettext = Callable[..., str]


def french(message: str, **params: Any) -> str:
    """The message as written (French), with its values."""
    return message % params if params else message


# ----------------------------------------------------------------------------- statuses
#: An order may get a parcel while it is paid and something is left to ship.
SHIPPABLE: tuple[OrderStatus, ...] = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
#: An order may be cancelled until its first parcel leaves.
CANCELLABLE: tuple[OrderStatus, ...] = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID)


#: « Clore le reste »: a paid order with something left to ship, like shipping.
CLOSABLE: tuple[OrderStatus, ...] = SHIPPABLE


def can_ship(order: Order) -> bool:
    return order.status in SHIPPABLE


def can_close(order: Order) -> bool:
    return order.status in CLOSABLE


def can_cancel(order: Order) -> bool:
    return order.status in CANCELLABLE


#: A payment confirmed by mistake may be undone while nothing has left and nothing was closed:
#: a paid order without any parcel (a parcel declared lost was shipped all the same) and
#: without closed quantities (the buyer was told their amount).
PAYMENT_UNDOABLE: tuple[OrderStatus, ...] = (OrderStatus.PAID,)


def can_undo_payment(order: Order) -> bool:
    return (order.status in PAYMENT_UNDOABLE and not order.shipments
            and not any(line.closed_quantity for line in order.lines))


def ship_refusal(order: Order) -> InvalidTransition:
    """Why an order that may not ship (not `can_ship`) gets no parcel."""
    if order.is_cancelled:
        return InvalidTransition("Cette commande est annulée : rien ne peut être expédié.")
    if not order.is_paid:
        return InvalidTransition("Le paiement doit être confirmé avant d'expédier la commande.")
    return InvalidTransition("Tous les articles de cette commande sont déjà expédiés.")


def parcel_quantity_refusal(sku: str, remaining: int, quantity: int, field: str, *,
                            closed: bool = False) -> InvalidInput | None:
    """Why `quantity` of a line (its SKU, what is left of it to ship; `closed`: part of it was
    closed) may not go in a parcel or be closed (0 leaves the line out), or None."""
    if quantity < 0:
        return InvalidInput(
            "Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis.", field=field)
    if quantity <= remaining:
        return None
    if remaining == 0 and closed:
        return InvalidInput("%(sku)s n'a plus rien à expédier : le reste est clos.", field=field, sku=sku)
    if remaining == 0:
        return InvalidInput("%(sku)s est déjà entièrement expédié.", field=field, sku=sku)
    # Two messages rather than ngettext: a refusal's template is one msgid.
    if remaining == 1:
        return InvalidInput("Il reste 1 article à expédier pour cette ligne.", field=field)
    return InvalidInput("Il reste %(remaining)s articles à expédier pour cette ligne.", field=field,
                        remaining=remaining)


def ship_date_refusal(day: date, today: date, ordered_on: date) -> InvalidInput | None:
    """A parcel leaves between the order's day and today (Paris days), or is refused."""
    if day > today:
        return InvalidInput("La date d'expédition ne peut pas être dans le futur.", field="shipped_on")
    if day < ordered_on:
        return InvalidInput("La date d'expédition ne peut pas précéder la date de la commande.",
                            field="shipped_on")
    return None


#: A parcel whose receipt is still open: the buyer may report a problem (« Signaler un
#: problème »); a parcel already in problem takes further reports as additions.
REPORTABLE: tuple[ShipmentStatus, ...] = (ShipmentStatus.SHIPPED, ShipmentStatus.AWAITING_RECEIPT)
#: The buyer's « J'ai bien reçu » is accepted from these (in problem, it closes the problem).
CONFIRMABLE: tuple[ShipmentStatus, ...] = (ShipmentStatus.AWAITING_RECEIPT, ShipmentStatus.PROBLEM)
#: « Colis perdu »: any parcel not received yet.
LOSABLE: tuple[ShipmentStatus, ...] = (ShipmentStatus.SHIPPED, ShipmentStatus.AWAITING_RECEIPT,
                                       ShipmentStatus.PROBLEM)
#: A parcel's carrier, tracking number and ship date may be corrected until it is received
#: or closed as lost. In problem too: a buyer who says « colis non reçu » is often looking at
#: a wrong tracking number, and the corrected link is what they need; the problem stays open
#: (no automatic receipt) until the seller answers it.
EDITABLE: tuple[ShipmentStatus, ...] = LOSABLE
#: A buyer's report or a seller's message to the buyer, in characters.
MESSAGE_MAX = 2_000


def in_several_parcels(order: Order) -> bool:
    """The order comes, or will come, in more than one parcel: the buyer confirms each one."""
    return len(order.shipments) > 1 or any(line.remaining > 0 for line in order.lines)


def can_report(status: str) -> bool:
    """The buyer may send a report (a first one, or one more while in problem)."""
    return status in REPORTABLE or status == ShipmentStatus.PROBLEM


def can_confirm(status: str) -> bool:
    return status in CONFIRMABLE


def can_declare_lost(status: str) -> bool:
    return status in LOSABLE


def can_edit_parcel(status: str) -> bool:
    return status in EDITABLE


# ----------------------------------------------------------------------------- orders
#: The only currency an order may be in.
CURRENCY = "EUR"
MAX_LINES = 200
MAX_QUANTITY = 9_999


def currency_accepted(code: str) -> bool:
    return code == CURRENCY


def line_count_accepted(count: int) -> bool:
    return 1 <= count <= MAX_LINES


def quantity_accepted(quantity: int) -> bool:
    return 1 <= quantity <= MAX_QUANTITY


def repeated_skus(skus: Sequence[str]) -> dict[int, int]:
    """Each line whose SKU an earlier line has (its index -> the earlier line's index): a
    reference appears once in an order. Empty SKUs (refused for themselves) are left out."""
    first: dict[str, int] = {}
    repeats: dict[int, int] = {}
    for i, sku in enumerate(skus):
        if not sku:
            continue
        if sku in first:
            repeats[i] = first[sku]
        else:
            first[sku] = i
    return repeats


# ----------------------------------------------------------------------------- addresses
#: Postal codes (ECMA-262 compatible patterns, also stated in the OpenAPI document): France's
#: five digits, and elsewhere 2 to 10 letters, digits, spaces or dashes.
FR_POSTAL_CODE_PATTERN = r"[0-9]{5}"
POSTAL_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9 -]{0,8}[A-Za-z0-9]"
_FR_POSTAL_CODE = re.compile(FR_POSTAL_CODE_PATTERN)
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)


def postal_code_problem(code: str, country: str, gettext: Gettext = french) -> str | None:
    """Why a postal code is refused for this country (ISO 3166-1 alpha-2), or None."""
    if country == "FR":
        if _FR_POSTAL_CODE.fullmatch(code):
            return None
        return gettext("Code postal français invalide : 5 chiffres attendus (ex. 69003).")
    if _POSTAL_CODE.fullmatch(code):
        return None
    return gettext("Code postal invalide : de 2 à 10 lettres, chiffres, espaces ou tirets.")


# ----------------------------------------------------------------------------- phone
#: Longest phone number accepted as typed (spaces and dots included); stored in E.164
#: (at most 16 characters).
PHONE_MAX = 32


def phone_e164(number: str) -> str | None:
    """The number in E.164 (« +33612345678 ») when it is a valid one, international
    (« +33 6 12 34 56 78 ») or French (« 06 12 34 56 78 »), as Google's libphonenumber
    knows the numbering plans; else None."""
    if len(number) > PHONE_MAX:
        return None
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_shown(number: str) -> str:
    """A stored (E.164) number as people write it: French ones nationally
    (« 03 20 12 34 56 »), others internationally (« +44 20 7946 0958 »)."""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 33
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, style)


def phone_problem(number: str, gettext: Gettext = french) -> str | None:
    """Why a phone number is refused (`phone_e164`), or None."""
    if phone_e164(number) is not None:
        return None
    return gettext("Numéro de téléphone invalide : au format international (+33 6 12 34 56 78) "
                   "ou français (06 12 34 56 78).")


# ----------------------------------------------------------------------------- e-mail
EMAIL_MAX = 254  # RFC 5321's limit for a path, and the columns' size


def email_is_valid(address: str) -> bool:
    """An address the mailer can write and send: RFC 5321 syntax as email-validator checks
    it (quoted local parts and domain literals included; no DNS lookup), in ASCII because
    the e-mails are sent without SMTPUTF8. Nothing around it: no space, no line break."""
    return len(address) <= EMAIL_MAX and address.isascii() and _valid_syntax(address)


@lru_cache(maxsize=4096)
def _valid_syntax(address: str) -> bool:
    # Cached: a batch of e-mails names the same shops again and again (~0.1 ms a check).
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False,
                       allow_quoted_local=True, allow_domain_literal=True)
    except EmailNotValidError:
        return False
    return True


def email_problem(address: str, gettext: Gettext = french) -> str | None:
    """Why an e-mail address is refused (`email_is_valid`), or None."""
    return None if email_is_valid(address) else gettext("Adresse e-mail invalide.")


# ----------------------------------------------------------------------------- shop
SHOP_NAME_MAX = 120
# Line breaks and control characters: the shop's name goes in the From of every buyer's e-mail.
_NOT_ON_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


def shop_name_problem(name: str, gettext: Gettext = french) -> str | None:
    """A shop's name: 1 to SHOP_NAME_MAX characters (once trimmed), on one printable line."""
    name = name.strip()
    if not name:
        return gettext("Indiquez le nom de votre boutique.")
    if len(name) > SHOP_NAME_MAX:
        return gettext("Le nom de la boutique a au plus %(max)d caractères.", max=SHOP_NAME_MAX)
    if any(unicodedata.category(ch) in _NOT_ON_ONE_LINE for ch in name):
        return gettext("Le nom de la boutique tient sur une ligne, sans retour à la ligne ni caractère "
                       "de contrôle.")
    return None


def multiline_text(value: str, limit: int) -> str:
    """Text of several lines as typed in a form: one kind of line end, no other control
    character, trimmed (`limit`: the refused length, checked before)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))[:limit]
