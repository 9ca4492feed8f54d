"""`dev.py`: its help, and the address it serves agreed on by every development process."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from uniqu3 import config

ROOT = Path(__file__).resolve().parents[1]


def _dev_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_usage_and_succeeds(flag: str) -> None:
    result = subprocess.run([sys.executable, "dev.py", flag], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0
    assert "python3 dev.py run" in result.stdout
    assert "PORT" in result.stdout


def test_an_unknown_command_prints_the_usage_and_fails() -> None:
    result = subprocess.run([sys.executable, "dev.py", "serve"], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1
    assert "python3 dev.py run" in result.stderr


def test_the_cli_links_to_the_port_dev_run_serves(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert config.development_base_url(tmp_path) == "http://127.0.0.1:5000"

    served = _dev_script().record_base_url(tmp_path, "5170")

    # Another terminal, without PORT: `flask admin import-orders` links to the same server.
    assert served == "http://127.0.0.1:5170"
    assert config.development_base_url(tmp_path) == served


def test_port_and_base_url_of_the_process_come_first(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    (tmp_path / config.DEV_BASE_URL_FILE).write_text("http://127.0.0.1:5170\n")
    monkeypatch.setenv("PORT", "5300")
    assert config.development_base_url(tmp_path) == "http://127.0.0.1:5300"
    monkeypatch.setenv("BASE_URL", "http://shop.test:8000/")
    assert config.development_base_url(tmp_path) == "http://shop.test:8000"
    assert _dev_script().record_base_url(tmp_path, "5300") == "http://shop.test:8000"
