"""The English catalogue: every French msgid of the code translated, placeholders kept, compiled."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, ngettext

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "uniqu3" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
README = TRANSLATIONS / "README.md"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")

Key = tuple[str | None, Any]


def _key(message: Any) -> Key:
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return message.context, msgid


def _text(string: Any) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def _messages(catalog: Catalog) -> dict[Key, Any]:
    return {_key(m): m for m in catalog if m.id}


@pytest.fixture(scope="module")
def english() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="en")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The documented extraction command, run on the code as it is now."""
    line = next(line for line in README.read_text().splitlines() if line.startswith("pybabel extract"))
    args = shlex.split(line)
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    args[args.index("-o") + 1] = str(out)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        CommandLineInterface().run([args[0], "--quiet", *args[1:]])
    with out.open("rb") as f:
        return read_po(f)


def test_the_catalogue_has_exactly_the_messages_of_the_code(extracted: Catalog, english: Catalog) -> None:
    code, catalogue = set(_messages(extracted)), set(_messages(english))
    assert len(code) > 500  # the pages, e-mails, refusals and CLI: extraction found them all
    assert sorted(code - catalogue, key=str) == [], "run the update commands of uniqu3/translations/README.md"
    assert sorted(catalogue - code, key=str) == [], "messages no longer in the code"


def test_the_workflow_refusals_and_text_e_mails_are_extracted(extracted: Catalog) -> None:
    ids = {m.id for m in extracted}
    assert "Il reste %(remaining)s articles à expédier pour cette ligne." in ids
    assert "Cette commande est annulée : son paiement ne peut plus être confirmé." in ids
    assert "ARTICLES COMMANDÉS" in ids  # only in templates/email/e1_new_order.txt
    assert "Le numéro de suivi « %(number)s » ne ressemble pas à %(hint)s." in ids  # carriers' N_()


def test_every_message_is_translated_and_none_is_fuzzy(english: Catalog) -> None:
    assert not english.fuzzy
    untranslated = [m.id for m in english if m.id and (
        "fuzzy" in m.flags or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert untranslated == []
    assert english.plural_forms == "nplurals=2; plural=(n != 1);"


def test_translations_keep_every_placeholder(english: Catalog) -> None:
    wrong = []
    for m in english:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid, msgstr in zip(ids, strings, strict=True):
            same = sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr))
            if not same or "%" in PLACEHOLDER.sub("", msgstr):  # templates format every string
                wrong.append((msgid, msgstr))
    assert wrong == []


def test_the_compiled_catalogue_is_committed_and_up_to_date(english: Catalog) -> None:
    with MO.open("rb") as f:
        compiled = _messages(read_mo(f))
    expected = _messages(english)
    assert set(compiled) == set(expected)
    stale = [key for key, m in expected.items() if _text(compiled[key].string) != _text(m.string)]
    assert stale == [], "run: pybabel compile -d uniqu3/translations"


def test_the_app_reads_the_catalogue_from_the_package(app: Flask) -> None:
    directory = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    assert directory.is_absolute() and directory == TRANSLATIONS
    with app.test_request_context(), force_locale("en"):
        assert ngettext("Commande reçue : %(num)d ligne, %(total)s",
                        "Commande reçue : %(num)d lignes, %(total)s", 2, total="€5.00") == (
            "Order received: 2 lines, €5.00")


@pytest.mark.parametrize(("count", "french", "english"), [
    (1, "Commande reçue : 1 ligne, 5,00 €", "Order received: 1 line, 5,00 €"),
    (3, "Commande reçue : 3 lignes, 5,00 €", "Order received: 3 lines, 5,00 €"),
])
def test_plurals_without_a_french_catalogue(app: Flask, count: int, french: str, english: str) -> None:
    """No French catalogue: the msgids' own rule (singular for 1), right for the counts shown
    in French (an order has at least one line, a refused form at least one field)."""
    with app.test_request_context():
        for locale, expected in (("fr", french), ("en", english)):
            with force_locale(locale):
                assert ngettext("Commande reçue : %(num)d ligne, %(total)s",
                                "Commande reçue : %(num)d lignes, %(total)s", count,
                                total="5,00 €") == expected
