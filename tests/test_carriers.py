"""Carrier registry, tracking numbers and tracking URLs (no Flask, no database)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uniqu3.carriers import (
    CARRIERS,
    Carrier,
    InvalidTrackingNumber,
    InvalidTrackingUrl,
    UnknownCarrier,
    all_carriers,
    carrier_from_name,
    check_custom_url,
    check_tracking_number,
    get_carrier,
    normalize_tracking_number,
    tracking_url,
)

EXPECTED_CODES = {
    "colissimo",
    "lettre_suivie",
    "chronopost",
    "mondial_relay",
    "dpd",
    "gls",
    "ups",
    "dhl",
    "fedex",
    "colis_prive",
    "relais_colis",
    "other",
    "hand_delivery",
}


# --- registry -------------------------------------------------------------------------


def test_registry_has_every_carrier_in_display_order() -> None:
    carriers = all_carriers()
    assert {c.code for c in carriers} == EXPECTED_CODES
    assert len(carriers) == len(EXPECTED_CODES)
    assert carriers[0].code == "colissimo"
    assert [c.code for c in carriers[-2:]] == ["other", "hand_delivery"]
    assert list(CARRIERS) == [c.code for c in carriers]


def test_all_carriers_returns_a_copy() -> None:
    all_carriers().clear()
    assert len(all_carriers()) == len(EXPECTED_CODES)


def test_get_carrier() -> None:
    colissimo = get_carrier("colissimo")
    assert isinstance(colissimo, Carrier)
    assert colissimo.code == "colissimo"
    assert "Colissimo" in colissimo.name
    assert get_carrier(" Mondial_Relay ") is CARRIERS["mondial_relay"]


@pytest.mark.parametrize("code", ["laposte", "", "  ", "colissimo2", None, 3])
def test_unknown_carrier(code: object) -> None:
    with pytest.raises(UnknownCarrier) as excinfo:
        get_carrier(code)  # type: ignore[arg-type]
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value).startswith("Transporteur inconnu")


def test_unknown_carrier_code_in_other_functions() -> None:
    with pytest.raises(UnknownCarrier):
        check_tracking_number("pigeon_voyageur", "6A12345678901")
    with pytest.raises(UnknownCarrier):
        tracking_url("pigeon_voyageur", "6A12345678901")


def test_carrier_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_carrier("ups").name = "Autre"  # type: ignore[misc]


def test_carrier_fields() -> None:
    for carrier in all_carriers():
        if carrier.tracking_url is not None:
            assert carrier.tracking_url.startswith("https://")
            assert "{number}" in carrier.tracking_url
        if carrier.postage_url is not None:
            assert carrier.postage_url.startswith("https://")
    assert get_carrier("colissimo").postage_url == "https://www.laposte.fr/colissimo-en-ligne"
    assert get_carrier("lettre_suivie").tracking_url == get_carrier("colissimo").tracking_url
    other = get_carrier("other")
    assert other.tracked and other.tracking_url is None and other.accepts_custom_url
    hand = get_carrier("hand_delivery")
    assert not hand.tracked and hand.tracking_url is None and hand.pattern is None
    assert not get_carrier("colissimo").accepts_custom_url


# --- normalisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6a 1234 5678 901", "6A12345678901"),
        ("  6A12345678901\n", "6A12345678901"),
        ("6A\u00a01234\u202f5678\t901", "6A12345678901"),  # non-breaking spaces, tab
        ("6A\u200b12345678901\ufeff", "6A12345678901"),  # zero-width space, BOM
        ("1z 999 aa1 0123 4567 84", "1Z999AA10123456784"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_tracking_number(raw: str, expected: str) -> None:
    assert normalize_tracking_number(raw) == expected


# --- tracking numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("colissimo", "6a 1234 5678 901", "6A12345678901"),
        ("colissimo", "8L00123456789", "8L00123456789"),
        ("colissimo", "cb 123 456 789 fr", "CB123456789FR"),
        ("colissimo", "6A12345678901FR", "6A12345678901FR"),
        ("lettre_suivie", "1K 00123456789", "1K00123456789"),
        ("chronopost", "XY 123 456 789 FR", "XY123456789FR"),
        ("chronopost", "XX12345678901", "XX12345678901"),
        ("mondial_relay", "12345678", "12345678"),
        ("mondial_relay", "1234 5678 9012", "123456789012"),
        ("dpd", "0987 6543 2109 87", "09876543210987"),
        ("gls", "12345678901", "12345678901"),
        ("gls", "zffgq3hn", "ZFFGQ3HN"),
        ("ups", "1z 999 aa1 0123 4567 84", "1Z999AA10123456784"),
        ("ups", "123456789", "123456789"),
        ("dhl", "1234567890", "1234567890"),
        ("dhl", "JJD000390007785426789", "JJD000390007785426789"),
        ("fedex", "1234 5678 9012", "123456789012"),
        ("fedex", "123456789012345", "123456789012345"),
        ("colis_prive", "12345678901234", "12345678901234"),
        ("relais_colis", "4a1b2c3d4e5f", "4A1B2C3D4E5F"),
        ("other", "abc-123-456", "ABC-123-456"),
        ("other", "ab12", "AB12"),
    ],
)
def test_real_numbers_accepted_and_normalised(code: str, raw: str, expected: str) -> None:
    assert check_tracking_number(code, raw) == expected
    assert check_tracking_number(get_carrier(code), raw) == expected


EXAMPLES = [
    (carrier.code, match.group(1))
    for carrier in all_carriers()
    if (match := re.search(r"par ex\. ([A-Z0-9-]+)", carrier.number_hint))
]


def test_most_messages_give_an_example() -> None:
    assert {code for code, _ in EXAMPLES} >= {"colissimo", "chronopost", "mondial_relay", "ups"}


@pytest.mark.parametrize(("code", "example"), EXAMPLES)
def test_the_example_in_each_message_is_accepted(code: str, example: str) -> None:
    assert check_tracking_number(code, example) == example


def test_nonsense_refused_with_a_french_message() -> None:
    with pytest.raises(InvalidTrackingNumber) as excinfo:
        check_tracking_number("colissimo", "xyz")
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value) == (
        "Le numéro de suivi « XYZ » ne ressemble pas à un numéro Colissimo "
        "(13 caractères, par ex. 6A12345678901)."
    )


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("colissimo", "XYZ"),
        ("colissimo", "6A1234567890!"),
        ("colissimo", "6A-1234-5678-901"),
        ("colissimo", "ABCDEFGHIJKLM"),  # no digit at all
        ("colissimo", "6A123"),
        ("colissimo", "\u0666A12345678901"),  # Arabic-Indic digit six
        ("colissimo", "6A12345678901" * 4),  # too long
        ("chronopost", "123"),
        ("mondial_relay", "1234567"),  # too short
        ("mondial_relay", "ABC12345"),  # letters
        ("mondial_relay", "1234567890123"),  # too long
        ("ups", "2Z999AA10123456784"),
        ("ups", "12345678"),
        ("dhl", "123456789"),
        ("fedex", "1234567890123"),  # 13 digits
        ("dpd", "1234567"),
        ("gls", "1234567"),
        ("colis_prive", "ABCDEFGHIJ"),
        ("relais_colis", "1234567"),
        ("other", "AB"),
        ("other", "----"),
        ("other", "ABC/123"),
        ("other", "A" * 41),
        ("other", "<script>"),
    ],
)
def test_implausible_numbers_refused(code: str, raw: str) -> None:
    with pytest.raises(InvalidTrackingNumber) as excinfo:
        check_tracking_number(code, raw)
    message = str(excinfo.value)
    assert message.startswith("Le numéro de suivi « ")
    assert "ne ressemble pas à" in message
    assert message.endswith(".")


def test_message_quotes_long_input_truncated() -> None:
    with pytest.raises(InvalidTrackingNumber) as excinfo:
        check_tracking_number("colissimo", "A" * 500)
    assert "A" * 39 + "…" in str(excinfo.value)
    assert "A" * 41 not in str(excinfo.value)


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0\n", None])
@pytest.mark.parametrize("code", sorted(EXPECTED_CODES - {"hand_delivery"}))
def test_empty_number_refused_for_tracked_carriers(code: str, raw: str | None) -> None:
    with pytest.raises(InvalidTrackingNumber) as excinfo:
        check_tracking_number(code, raw)
    assert str(excinfo.value) == "Le numéro de suivi est obligatoire pour ce transporteur."


@pytest.mark.parametrize("raw", ["", "   ", None, "anything"])
def test_hand_delivery_needs_no_number(raw: str | None) -> None:
    assert check_tracking_number("hand_delivery", raw) == ""


@settings(max_examples=300, database=None, deadline=None)
@given(
    code=st.sampled_from(sorted(EXPECTED_CODES)),
    raw=st.text(alphabet=st.characters(), max_size=60),
)
def test_any_input_is_either_a_clean_number_or_a_refusal(code: str, raw: str) -> None:
    try:
        number = check_tracking_number(code, raw)
    except InvalidTrackingNumber as exc:
        assert str(exc)
    else:
        if code == "hand_delivery":
            assert number == ""
        else:
            assert re.fullmatch(r"[A-Z0-9-]{4,40}", number)
            assert check_tracking_number(code, number) == number  # idempotent


# --- tracking URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "number", "expected"),
    [
        (
            "colissimo",
            "6A12345678901",
            "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
        ),
        (
            "lettre_suivie",
            "1k 00123456789",
            "https://www.laposte.fr/outils/suivre-vos-envois?code=1K00123456789",
        ),
        (
            "chronopost",
            "XY123456789FR",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XY123456789FR",
        ),
        (
            "mondial_relay",
            "12345678",
            "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=12345678",
        ),
        ("dpd", "09876543210987", "https://trace.dpd.fr/fr/trace/09876543210987"),
        ("gls", "12345678901", "https://gls-group.com/FR/fr/suivi-colis?match=12345678901"),
        (
            "ups",
            "1Z999AA10123456784",
            "https://www.ups.com/track?loc=fr_FR&tracknum=1Z999AA10123456784",
        ),
        (
            "dhl",
            "1234567890",
            "https://www.dhl.com/fr-fr/home/suivi.html?tracking-id=1234567890",
        ),
        ("fedex", "123456789012", "https://www.fedex.com/fedextrack/?trknbr=123456789012"),
        (
            "colis_prive",
            "12345678901234",
            "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis=12345678901234",
        ),
        (
            "relais_colis",
            "4A1B2C3D4E5F",
            "https://www.relaiscolis.com/suivi-de-colis/index/tracking/?valeur=4A1B2C3D4E5F",
        ),
    ],
)
def test_tracking_url_built(code: str, number: str, expected: str) -> None:
    assert tracking_url(code, number) == expected
    assert tracking_url(get_carrier(code), number) == expected


def test_tracking_url_encodes_the_number() -> None:
    assert tracking_url("dpd", "a/b c?&#") == "https://trace.dpd.fr/fr/trace/A%2FBC%3F%26%23"
    assert (
        tracking_url("colissimo", "6A1&code=X")
        == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A1%26CODE%3DX"
    )


def test_tracking_url_for_other_carrier() -> None:
    other = get_carrier("other")
    assert (
        tracking_url(other, "ab-12/3", "https://suivi.example.fr/colis?n={number}&lang=fr")
        == "https://suivi.example.fr/colis?n=AB-12%2F3&lang=fr"
    )
    assert (
        tracking_url(other, "AB123", "https://suivi.example.fr/colis/{number}")
        == "https://suivi.example.fr/colis/AB123"
    )
    # No placeholder: the seller's URL as is.
    assert tracking_url(other, "AB123", "https://suivi.example.fr/") == "https://suivi.example.fr/"
    # No URL typed, or one that is not a safe web address: no link.
    assert tracking_url(other, "AB123") is None
    assert tracking_url(other, "AB123", "") is None
    assert tracking_url(other, "AB123", "javascript:alert(document.cookie)") is None
    assert tracking_url(other, "AB123", "ftp://example.fr/{number}") is None
    # A placeholder with no number to put in it: no link.
    assert tracking_url(other, "", "https://suivi.example.fr/{number}") is None


def test_tracking_url_none_when_there_is_nothing_to_link() -> None:
    assert tracking_url("hand_delivery", "") is None
    assert tracking_url("hand_delivery", "ABC123", "https://example.fr/{number}") is None
    assert tracking_url("colissimo", "") is None
    assert tracking_url("colissimo", None) is None
    assert tracking_url("colissimo", "   ") is None


def test_custom_url_ignored_for_known_carriers() -> None:
    assert tracking_url("ups", "1Z999AA10123456784", "https://evil.example/{number}") == (
        "https://www.ups.com/track?loc=fr_FR&tracknum=1Z999AA10123456784"
    )


# --- custom tracking URL ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://suivi.example.fr/colis/{number}", "https://suivi.example.fr/colis/{number}"),
        ("  http://example.fr/suivi?n={number}\n", "http://example.fr/suivi?n={number}"),
        ("HTTPS://Example.FR/", "HTTPS://Example.FR/"),
        ("https://example.fr:8443/t", "https://example.fr:8443/t"),
        ("https://transporteur-été.fr/suivi", "https://transporteur-été.fr/suivi"),
        ("https://example.fr/" + "a" * 480, "https://example.fr/" + "a" * 480),  # 499 chars
    ],
)
def test_custom_url_accepted(raw: str, expected: str) -> None:
    assert check_custom_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "JavaScript://example.fr/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.fr/suivi",
        "file:///etc/passwd",
        "mailto:suivi@example.fr",
        "example.fr/suivi",
        "//example.fr/suivi",
        "https://",
        "https:///path",
        "https://exa mple.fr/suivi",
        "https://example.fr/suivi?n=1 2",
        "https://example.fr/\tsuivi",
        "https://example.fr/\u200bsuivi",  # zero-width space
        "https://example.fr/\u202esuivi",  # right-to-left override
        "https://example.fr/\x00",
        "https://example.fr\\@evil.example/",
        "https://laposte.fr@evil.example/suivi",
        "https://user:secret@example.fr/suivi",
        "https://example.fr:99999/",
        "https://example.fr/" + "a" * 482,  # 501 chars
        "",
        "   ",
        None,
    ],
)
def test_custom_url_refused(raw: str | None) -> None:
    with pytest.raises(InvalidTrackingUrl) as excinfo:
        check_custom_url(raw)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert message.startswith(("L'adresse", "Indiquez"))
    assert message.endswith(".")


def test_custom_url_messages() -> None:
    with pytest.raises(InvalidTrackingUrl, match="https://"):
        check_custom_url("javascript:alert(1)")
    with pytest.raises(InvalidTrackingUrl, match="espace"):
        check_custom_url("https://exa mple.fr")
    with pytest.raises(InvalidTrackingUrl, match="500 caractères"):
        check_custom_url("https://example.fr/" + "a" * 500)


@pytest.mark.parametrize(("written", "code"), [
    ("Colissimo", "colissimo"), ("LA POSTE", "colissimo"), ("Chronopost", "chronopost"),
    ("mondial relay", "mondial_relay"), ("Mondial-Relay", "mondial_relay"), ("DPD Predict", "dpd"),
    ("Colis Privé", "colis_prive"), ("colis prive", "colis_prive"), ("relais_colis", "relais_colis"),
    ("Lettre suivie (La Poste)", "lettre_suivie"),
])
def test_a_carrier_is_found_by_the_names_sellers_write(written: str, code: str) -> None:
    assert carrier_from_name(written).code == code


@pytest.mark.parametrize("written", ["", "Pigeon", "Autre transporteur", "other", "Remise en main propre"])
def test_a_name_that_is_not_a_tracked_carrier_is_unknown(written: str) -> None:
    with pytest.raises(UnknownCarrier, match="Transporteur inconnu"):
        carrier_from_name(written)
