"""Click's own words around the French commands are French too: usage, help, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import Result

from uniqu3.cli import click_french


def test_the_help_is_french(admin: Callable[..., Result]) -> None:
    result = admin("--help")
    assert result.exit_code == 0
    assert result.output.startswith("Utilisation : uniqu3 admin [OPTIONS] COMMANDE [ARGUMENTS]...")
    assert "Afficher cette aide et quitter." in result.output
    assert "Commandes:" in result.output
    for english in ("Usage", "Show this message", "Commands:"):
        assert english not in result.output


def test_a_missing_argument_is_said_in_french(admin: Callable[..., Result]) -> None:
    result = admin("create-seller")
    assert result.exit_code == 2
    assert "Erreur : Argument manquant 'EMAIL'." in result.output
    assert "Aide : « uniqu3 admin create-seller --help »." in result.output
    assert "Error" not in result.output and "Try " not in result.output


def test_an_unknown_command_or_option_is_said_in_french(admin: Callable[..., Result]) -> None:
    assert "Erreur : Commande inconnue : 'nope'." in admin("nope").output
    assert "Erreur : Option inconnue : '--nope'." in admin("stats", "--nope").output


def _key(text: object) -> object:
    """A plural's forms come as a tuple from the .po and a list from the .mo."""
    return tuple(text) if isinstance(text, list | tuple) else text


def test_the_compiled_catalogue_is_up_to_date() -> None:
    po = click_french.LOCALE_DIR / "fr" / "LC_MESSAGES" / "click.po"
    mo = Path(po).with_suffix(".mo")
    # Same messages in the compiled file as in the .po (file times mean nothing in a fresh clone).
    with po.open("rb") as source, mo.open("rb") as compiled:
        expected = {_key(m.id): _key(m.string) for m in read_po(source) if m.id}
        assert {_key(m.id): _key(m.string) for m in read_mo(compiled) if m.id} == expected
    assert click_french.catalogue().gettext("Usage:") == "Utilisation :"
