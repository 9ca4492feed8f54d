"""The workflow's Hypothesis state machine (tests/workflow/test_stateful.py), deep: the rest of
the suite runs a light 15 examples, this one RELIABILITY_STATEFUL_EXAMPLES (60). In a file of
its own, being the longest single test: a parallel run (one file per worker at a time) runs it
beside the other files rather than after the rest of the bad-input tests."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.reliability.conftest import Figures, knob
from tests.workflow import test_stateful as stateful

pytestmark = pytest.mark.reliability

STATEFUL_EXAMPLES = knob("STATEFUL_EXAMPLES", 60)


def test_the_workflow_state_machine_with_more_examples(app: Flask, figures: Figures) -> None:
    tally = stateful.run_random_workflows(app, STATEFUL_EXAMPLES)
    try:
        figures.record_findings("fuzz_workflow_stateful", {"invariant_failures": tally.broken},
                                examples=tally.examples, steps_per_example_max=tally.steps_max,
                                invariant_checks=tally.checks)
    finally:
        if tally.error is not None:
            raise tally.error  # Hypothesis's minimal failing example
    assert tally.examples >= STATEFUL_EXAMPLES
