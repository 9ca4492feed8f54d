"""The figures of RELIABILITY.md: what each reliability test counted, written to
test-artifacts/reliability-<backend>.json (rendered by report.py).

A figure is always a count of what the test observed. A failure the test looks for (an e-mail
lost, a leak, a 5xx…) is collected, counted and recorded first, and only then does the test
fail if any was found: a zero in the document is a count that came out zero, never a literal
written after the assertions passed.

Under pytest-xdist each worker hands its figures to the controller, which adds them up and
writes the file once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BACKEND = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
WORKER_OUTPUT_KEY = "reliability_figures"


class Figures:
    """What the suite counted, by test name."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def record(self, name: str, **values: Any) -> None:
        entry = self.entries.setdefault(name, {})
        for key, value in values.items():
            if isinstance(value, int | float) and isinstance(entry.get(key), int | float) \
                    and not isinstance(value, bool):
                entry[key] += value  # a parametrized test (or another xdist worker) adds up
            else:
                entry[key] = value

    def record_findings(self, name: str, findings: Mapping[str, Collection[Any]], **values: Any) -> None:
        """Records `values` and how many of each kind of failure the test found (`findings`:
        kind -> what was found), THEN fails the test if anything was found."""
        self.record(name, **values, **{kind: len(found) for kind, found in findings.items()})
        found = {kind: list(items)[:10] for kind, items in findings.items() if items}
        assert not found, f"{name}: {found}"

    def merge(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        for name, values in entries.items():
            self.record(name, **values)

    def dumps(self) -> str:
        return json.dumps(self.entries, default=str)

    def write(self) -> Path | None:
        if not self.entries:
            return None
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"reliability-{BACKEND}.json"
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = {}
        tests = previous.get("tests", {})
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for name, values in self.entries.items():
            tests[name] = {**values, "at": stamp}
        path.write_text(json.dumps({"backend": BACKEND, "updated_at": stamp, "tests": tests},
                                   indent=2, sort_keys=True, default=str) + "\n")
        return path
