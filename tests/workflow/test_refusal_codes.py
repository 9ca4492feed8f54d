"""Every refusal of the workflow names its rule with a stable code (the API's `code`), from
one list: `uniqu3.workflow.errors.CODES`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from uniqu3.workflow import InvalidInput, InvalidTransition, NotFound
from uniqu3.workflow.errors import CODES

WORKFLOW = Path(__file__).resolve().parents[2] / "uniqu3" / "workflow"
REFUSALS = {"InvalidInput", "InvalidTransition", "NotFound", "Conflict"}


def refusals() -> list[tuple[str, int, ast.Call]]:
    found = []
    for path in sorted(WORKFLOW.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in REFUSALS:
                found.append((path.name, node.lineno, node))
    return found


def test_every_refusal_raised_by_the_workflow_has_its_own_code() -> None:
    calls = refusals()
    assert len(calls) > 30
    missing = []
    for name, line, call in calls:
        explicit = any(keyword.arg == "code" for keyword in call.keywords)
        first = call.args[0] if call.args else None
        listed = isinstance(first, ast.Constant) and first.value in CODES
        if not (explicit or listed):
            missing.append(f"{name}:{line}")
    assert missing == [], "add these refusals' messages to uniqu3.workflow.errors.CODES"


def test_codes_are_stable_identifiers() -> None:
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in CODES.values())


@pytest.mark.parametrize(("error", "code"), [
    (InvalidTransition("Le paiement doit être confirmé avant d'expédier la commande."), "not_paid"),
    (InvalidInput("Il reste %(remaining)s articles à expédier pour cette ligne.", remaining=2),
     "quantity_exceeds_remaining"),
    (InvalidInput("Un message que la liste ne connaît pas."), "invalid_input"),
    (NotFound("Commande introuvable."), "order_not_found"),
    (InvalidInput("Le numéro de suivi est obligatoire pour ce transporteur.", code="invalid_tracking_number"),
     "invalid_tracking_number"),
])
def test_a_refusal_carries_the_code_of_its_message(error: InvalidInput, code: str) -> None:
    assert error.code == code


def test_every_code_named_where_it_is_raised_is_in_the_list_of_all() -> None:
    from uniqu3.workflow import errors
    from uniqu3.workflow.errors import ALL_CODES

    named = set()
    for _, _, call in refusals():
        for keyword in call.keywords:
            if keyword.arg == "code" and isinstance(keyword.value, ast.Attribute):
                named.add(getattr(errors, keyword.value.attr))
    assert named and named <= ALL_CODES
    assert set(CODES.values()) <= ALL_CODES
