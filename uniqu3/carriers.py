"""Carriers used by French sellers: registry, tracking numbers and tracking URLs.

Plain Python (no Flask): the web layer turns the exceptions below into form
errors; their ``str()`` is a French message that can be shown to the seller, and
``translated(gettext)`` the same message in the reader's language (the French
texts are marked with ``N_`` for the translation catalogue).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "CARRIERS",
    "HAND_DELIVERY",
    "Carrier",
    "CarrierError",
    "InvalidTrackingNumber",
    "InvalidTrackingUrl",
    "Phrase",
    "UnknownCarrier",
    "all_carriers",
    "carrier_from_name",
    "check_custom_url",
    "check_tracking_number",
    "get_carrier",
    "normalize_tracking_number",
    "tracking_url",
    "translate_params",
    "url_template",
]

#: The code of « Remise en main propre »: the seller hands the parcel over, no carrier.
HAND_DELIVERY = "hand_delivery"
#: Placeholder replaced by the (URL-encoded) tracking number in URL templates.
NUMBER_PLACEHOLDER = "{number}"
#: Maximum length of a seller-supplied tracking URL (carrier ``other``).
CUSTOM_URL_MAX_LENGTH = 500
#: Bounds of any normalised tracking number, whatever the carrier.
NUMBER_MIN_LENGTH = 4
NUMBER_MAX_LENGTH = 40

_LAPOSTE_TRACKING = "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
# Characters removed by normalisation besides str.isspace() ones (which already
# cover U+00A0 and U+202F): zero-width spaces/joiners and the BOM.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_LENGTHS = f"{{{NUMBER_MIN_LENGTH},{NUMBER_MAX_LENGTH}}}"  # "{4,40}"
_GENERAL_SHAPE = re.compile(f"[A-Z0-9]{_LENGTHS}")
_OTHER_SHAPE = re.compile(f"(?=.*[A-Z0-9])[A-Z0-9-]{_LENGTHS}")


class Phrase(str):
    """A French phrase that is a catalogue message of its own (a number hint)."""

    __slots__ = ()

    def translated(self, gettext: Callable[..., str]) -> str:
        return gettext(str(self))


def N_(message: str) -> Phrase:
    """Marks a French message for extraction; it is translated where it is shown."""
    return Phrase(message)


def translate_params(params: dict[str, Any], gettext: Callable[..., str]) -> dict[str, Any]:
    """Values that are messages of their own (e.g. a `Phrase`) in the reader's language."""
    return {key: value.translated(gettext) if callable(getattr(value, "translated", None)) else value
            for key, value in params.items()}


class CarrierError(ValueError):
    """``template``: a French message with %(name)s placeholders filled from ``params``."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)

    def translated(self, gettext: Callable[..., str]) -> str:
        return gettext(self.template, **translate_params(self.params, gettext))


class UnknownCarrier(CarrierError):
    """The carrier code is not in the registry."""


class InvalidTrackingNumber(CarrierError):
    """The tracking number does not look right; ``str()`` is a French message."""


class InvalidTrackingUrl(CarrierError):
    """The custom tracking URL is refused; ``str()`` is a French message."""


@dataclass(frozen=True, slots=True)
class Carrier:
    """A carrier and what we know about its tracking numbers and URLs.

    ``tracking_url`` is a template containing ``{number}``; ``pattern`` is
    matched in full against the *normalised* number; ``number_hint`` completes
    the sentence « … ne ressemble pas à {number_hint}. » in error messages.
    """

    code: str
    name: str
    tracking_url: str | None
    tracked: bool
    postage_url: str | None
    pattern: re.Pattern[str] | None
    number_hint: str = N_("un numéro de suivi")

    @property
    def accepts_custom_url(self) -> bool:
        """True when the seller may type their own tracking URL."""
        return self.code == "other"


def _shape(*alternatives: str) -> re.Pattern[str]:
    """Compile alternatives into one pattern meant for ``fullmatch``."""
    return re.compile("|".join(f"(?:{alt})" for alt in alternatives))


# Display order: the most used first, "other" and hand delivery last.
_CARRIER_LIST: tuple[Carrier, ...] = (
    Carrier(
        code="colissimo",
        name="Colissimo (La Poste)",
        tracking_url=_LAPOSTE_TRACKING,
        tracked=True,
        postage_url="https://www.laposte.fr/colissimo-en-ligne",
        pattern=_shape(
            r"[0-9A-Z]{2}[0-9]{11}(?:FR)?",  # 6A12345678901, 8L…, 5S…
            r"[A-Z]{2}[0-9]{9}[A-Z]{2}",  # international (UPU S10), CB123456789FR
            r"(?=.*[0-9])[A-Z0-9]{11,15}",
        ),
        number_hint=N_("un numéro Colissimo (13 caractères, par ex. 6A12345678901)"),
    ),
    Carrier(
        code="lettre_suivie",
        name="Lettre suivie (La Poste)",
        tracking_url=_LAPOSTE_TRACKING,
        tracked=True,
        postage_url=None,
        pattern=_shape(
            r"[0-9A-Z]{2}[0-9]{11}(?:FR)?",  # 1K12345678901
            r"[A-Z]{2}[0-9]{9}[A-Z]{2}",
            r"(?=.*[0-9])[A-Z0-9]{11,15}",
        ),
        number_hint=N_("un numéro de Lettre suivie (13 caractères, par ex. 1K12345678901)"),
    ),
    Carrier(
        code="chronopost",
        name="Chronopost",
        tracking_url=(
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}"
        ),
        tracked=True,
        postage_url="https://www.chronopost.fr/fr/particulier/envoyer-un-colis",
        pattern=_shape(
            r"[A-Z]{2}[0-9]{9}[A-Z]{2}",  # XY123456789FR
            r"(?=.*[0-9])[A-Z0-9]{13,14}",
        ),
        number_hint=N_("un numéro Chronopost (13 caractères, par ex. XY123456789FR)"),
    ),
    Carrier(
        code="mondial_relay",
        name="Mondial Relay",
        tracking_url="https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={number}",
        tracked=True,
        postage_url="https://www.mondialrelay.fr/envoi-de-colis/",
        pattern=_shape(r"[0-9]{8,12}"),
        number_hint=N_("un numéro Mondial Relay (8 à 12 chiffres, par ex. 12345678)"),
    ),
    Carrier(
        code="dpd",
        name="DPD",
        tracking_url="https://trace.dpd.fr/fr/trace/{number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(r"[0-9]{14}", r"(?=.*[0-9])[A-Z0-9]{8,28}"),
        number_hint=N_("un numéro DPD (14 chiffres, par ex. 09876543210987)"),
    ),
    Carrier(
        code="gls",
        name="GLS",
        tracking_url="https://gls-group.com/FR/fr/suivi-colis?match={number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(r"[A-Z0-9]{8,12}"),
        number_hint=N_("un numéro GLS (8 à 12 caractères, par ex. 12345678901)"),
    ),
    Carrier(
        code="ups",
        name="UPS",
        tracking_url="https://www.ups.com/track?loc=fr_FR&tracknum={number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(r"1Z[A-Z0-9]{16}", r"[0-9]{9,12}"),
        number_hint=N_("un numéro UPS (18 caractères commençant par 1Z, par ex. 1Z999AA10123456784)"),
    ),
    Carrier(
        code="dhl",
        name="DHL",
        tracking_url="https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(
            r"[0-9]{10,14}",  # Express: 10 digits; Parcel: 12-14
            r"[0-9]{20}",  # SSCC-like parcel numbers
            r"[A-Z]{3}[0-9]{7,20}",  # JJD…, JVGL…-style references
            r"GM[0-9]{16,22}",  # DHL eCommerce
            r"[A-Z]{2}[0-9]{9}[A-Z]{2}",  # UPU S10
        ),
        number_hint=N_("un numéro DHL (10 chiffres, par ex. 1234567890, ou JJD…)"),
    ),
    Carrier(
        code="fedex",
        name="FedEx",
        tracking_url="https://www.fedex.com/fedextrack/?trknbr={number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(r"[0-9]{12}", r"[0-9]{15}", r"[0-9]{20}", r"[0-9]{22}"),
        number_hint=N_("un numéro FedEx (12, 15, 20 ou 22 chiffres, par ex. 123456789012)"),
    ),
    Carrier(
        code="colis_prive",
        name="Colis Privé",
        tracking_url=(
            "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis={number}"
        ),
        tracked=True,
        postage_url=None,
        pattern=_shape(r"(?=.*[0-9])[A-Z0-9]{8,20}"),
        number_hint=N_("un numéro Colis Privé (8 à 20 lettres ou chiffres)"),
    ),
    Carrier(
        code="relais_colis",
        name="Relais Colis",
        tracking_url="https://www.relaiscolis.com/suivi-de-colis/index/tracking/?valeur={number}",
        tracked=True,
        postage_url=None,
        pattern=_shape(r"(?=.*[0-9])[A-Z0-9]{8,20}"),
        number_hint=N_("un numéro Relais Colis (8 à 20 lettres ou chiffres)"),
    ),
    Carrier(
        code="other",
        name="Autre transporteur",
        tracking_url=None,
        tracked=True,
        postage_url=None,
        pattern=_OTHER_SHAPE,
        number_hint=N_("un numéro de suivi (4 à 40 caractères : lettres, chiffres ou tirets)"),
    ),
    Carrier(
        code=HAND_DELIVERY,
        name="Remise en main propre",
        tracking_url=None,
        tracked=False,
        postage_url=None,
        pattern=None,
    ),
)

#: Read-only mapping code -> Carrier, in display order.
CARRIERS: MappingProxyType[str, Carrier] = MappingProxyType(
    {carrier.code: carrier for carrier in _CARRIER_LIST}
)


def get_carrier(code: str) -> Carrier:
    """Return the carrier with this code (surrounding spaces and case ignored)."""
    key = code.strip().lower() if isinstance(code, str) else None
    carrier = CARRIERS.get(key) if key else None
    if carrier is None:
        raise UnknownCarrier(N_("Transporteur inconnu : « %(carrier)s »."), carrier=_shorten(str(code)))
    return carrier


def _name_key(text: str) -> str:
    """A carrier's name as compared: no accents, case, spaces nor punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


#: How label software and sellers write the carriers (compared by `_name_key`), besides their
#: codes and names. « Autre » and hand delivery are left out: an import needs a known tracking.
_NAMES: dict[str, tuple[str, ...]] = {
    "colissimo": ("Colissimo", "La Poste", "La Poste Colissimo", "Coliposte", "Colissimo Expert",
                  "Colissimo Access", "Colissimo domicile", "Colissimo relais"),
    "lettre_suivie": ("Lettre suivie", "La Poste Lettre suivie"),
    "chronopost": ("Chronopost", "Chrono", "Chrono Relais", "Chronopost Shop2Shop", "Chrono 13",
                   "Chrono 18"),
    "mondial_relay": ("Mondial Relay", "Mondial Relais", "MondialRelay", "InPost Mondial Relay"),
    "dpd": ("DPD", "DPD Predict", "DPD Relais", "DPD France"),
    "gls": ("GLS", "GLS France"),
    "ups": ("UPS", "UPS Standard", "UPS Access Point"),
    "dhl": ("DHL", "DHL Express", "DHL Parcel", "DHL eCommerce"),
    "fedex": ("FedEx", "Fed Ex", "TNT", "FedEx TNT"),
    "colis_prive": ("Colis Privé", "Colis Prive"),
    "relais_colis": ("Relais Colis", "RelaisColis"),
}
_BY_NAME: dict[str, str] = {
    _name_key(name): code
    for code, names in _NAMES.items()
    for name in (code, CARRIERS[code].name, *names)
}


def carrier_from_name(text: str) -> Carrier:
    """The carrier a seller's file names (« Colissimo », « MONDIAL RELAY », « chronopost »…),
    or `UnknownCarrier`."""
    code = _BY_NAME.get(_name_key(text or ""))
    if code is None:
        raise UnknownCarrier(N_("Transporteur inconnu : « %(carrier)s »."), carrier=_shorten(str(text)))
    return CARRIERS[code]


def all_carriers() -> list[Carrier]:
    """All carriers in display order (Colissimo first, other/hand delivery last)."""
    return list(_CARRIER_LIST)


def normalize_tracking_number(raw: str) -> str:
    """Remove every whitespace (incl. non-breaking/invisible ones) and upper-case."""
    return "".join(ch for ch in raw if not ch.isspace() and ch not in _INVISIBLE).upper()


def check_tracking_number(carrier: Carrier | str, raw: str | None) -> str:
    """Return the normalised tracking number, or raise `InvalidTrackingNumber`.

    For untracked carriers (hand delivery) no number is stored: ``""`` is
    returned whatever was typed.
    """
    carrier = _resolve(carrier)
    if not carrier.tracked:
        return ""
    number = normalize_tracking_number(raw or "")
    if not number:
        raise InvalidTrackingNumber(N_("Le numéro de suivi est obligatoire pour ce transporteur."))
    general = _OTHER_SHAPE if carrier.code == "other" else _GENERAL_SHAPE
    if not general.fullmatch(number) or (
        carrier.pattern is not None and not carrier.pattern.fullmatch(number)
    ):
        raise InvalidTrackingNumber(
            N_("Le numéro de suivi « %(number)s » ne ressemble pas à %(hint)s."),
            number=_shorten(number),
            hint=carrier.number_hint,
        )
    return number


def tracking_url(
    carrier: Carrier | str, number: str | None, custom_url: str | None = None
) -> str | None:
    """Public tracking page for this parcel, or None when there is none.

    The number is normalised and URL-encoded. For ``other``, ``custom_url`` is
    used: ``{number}`` in it is replaced, otherwise it is returned as is; an
    invalid custom URL (e.g. ``javascript:``) yields None rather than a link.
    """
    carrier = _resolve(carrier)
    if not carrier.tracked:
        return None
    encoded = quote(normalize_tracking_number(number or ""), safe="")
    template: str | None
    if carrier.accepts_custom_url:
        if not custom_url:
            return None
        try:
            template = check_custom_url(custom_url)
        except InvalidTrackingUrl:
            return None
    else:
        template = carrier.tracking_url
    if template is None:
        return None
    if NUMBER_PLACEHOLDER not in template:
        return template
    if not encoded:
        return None
    return template.replace(NUMBER_PLACEHOLDER, encoded)


def url_template(url: str | None, number: str) -> str:
    """A parcel's tracking page with ``{number}`` back where its number stands: the address a
    seller typed for ``other``, as a correction of the parcel starts from it."""
    encoded = quote(number, safe="")
    if not url or not encoded:
        return url or ""
    return url.replace(encoded, NUMBER_PLACEHOLDER)


def check_custom_url(raw: str | None) -> str:
    """Validate a seller-typed tracking URL; return it stripped.

    Only absolute http(s) URLs of at most 500 characters, without whitespace,
    control/invisible characters, backslashes or credentials, are accepted.
    ``{number}`` may appear anywhere and is replaced by `tracking_url`.
    """
    url = (raw or "").strip()
    if not url:
        raise InvalidTrackingUrl(N_("Indiquez l'adresse de la page de suivi."))
    if len(url) > CUSTOM_URL_MAX_LENGTH:
        raise InvalidTrackingUrl(
            N_("L'adresse de suivi est trop longue (%(max)d caractères au maximum)."),
            max=CUSTOM_URL_MAX_LENGTH,
        )
    if any(ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in url):
        raise InvalidTrackingUrl(
            N_("L'adresse de suivi ne doit contenir ni espace ni caractère invisible.")
        )
    invalid = InvalidTrackingUrl(N_(
        "L'adresse de suivi doit être une adresse web commençant par "
        "https:// ou http://, par ex. https://transporteur.fr/suivi?n={number}."
    ))
    if "\\" in url:
        raise invalid
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on an invalid port
    except ValueError:
        raise invalid from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise invalid
    if "@" in parts.netloc:
        raise InvalidTrackingUrl(
            N_("L'adresse de suivi ne doit pas contenir d'identifiant ni de mot de passe.")
        )
    return url


def _resolve(carrier: Carrier | str) -> Carrier:
    """Accept a `Carrier` or its code."""
    return carrier if isinstance(carrier, Carrier) else get_carrier(carrier)


def _shorten(text: str, limit: int = 40) -> str:
    """Make user input safe to quote in a message: printable and truncated."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
