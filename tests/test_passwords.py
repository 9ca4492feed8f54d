"""The password rule: at least 10 characters, not a common or breached password (nor one
made of the seller's own e-mail or shop name), and no composition rule."""

from __future__ import annotations

import pytest

from uniqu3.passwords import MAX_LENGTH, password_problem

COMMON = "Ce mot de passe est trop courant"


@pytest.mark.parametrize("password", [
    "aaaaaaaaaa",        # a repeat
    "1234567890",        # a sequence from the breach lists
    "azertyuiop",        # the French keyboard's first row
    "motdepasse",        # « password »
    "motdepasse123",     # the same, with digits
    "Password123",       # case changes nothing
    "qwertyuiop",
    "iloveyou12",
])
def test_common_and_breached_passwords_are_refused(password: str) -> None:
    problem = password_problem(password)
    assert problem is not None and problem.startswith(COMMON), (password, problem)


@pytest.mark.parametrize("password", ["atelier.lina@example.fr", "Atelier Lina!!", "atelierlina"])
def test_a_password_made_of_the_account_itself_is_refused(password: str) -> None:
    assert password_problem(password) is None  # alone, nothing common about it…
    problem = password_problem(password, context=["atelier.lina@example.fr", "Atelier Lina"])
    assert problem is not None and problem.startswith(COMMON)  # …but it is the seller's own name


@pytest.mark.parametrize("password", [
    "correct horse battery",      # no digit, no capital, no symbol: fine (no composition rule)
    "un nouveau mot de passe",
    "le chat dort sur le radiateur",
    "x7#kq!2vmZp",
    "Ça s'écrit « ß » ici",       # any Unicode
])
def test_long_unusual_passwords_are_accepted_without_composition_rules(password: str) -> None:
    assert password_problem(password) is None


def test_the_length_rules_stay() -> None:
    assert password_problem("Kq7!vZ2p") == "Le mot de passe doit contenir au moins 10 caractères."
    too_long = password_problem("k" * (MAX_LENGTH + 1))
    assert too_long == "Le mot de passe est trop long (256 caractères au plus)."
    # A long password is judged on its beginning (the estimator reads 72 characters).
    assert password_problem("le chat dort sur le radiateur " * 8) is None
