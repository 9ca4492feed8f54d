#!/usr/bin/env python3
"""Set-up and daily commands, with nothing but Python 3.11+ on the machine.

Usage:
    python3 dev.py run     create .venv, install, migrate, load demo data, serve on PORT (5000)
    python3 dev.py test    create .venv, install, lint, type-check, run the tests on SQLite then PostgreSQL
                           (extra arguments go to pytest)
    python3 dev.py --help  this text

Environment:
    PORT      the port `run` serves on (default 5000); the links in e-mails follow it, also those
              sent by `flask --app wsgi admin …` from another terminal (instance/dev-base-url)
    BASE_URL  the address in e-mail links, when it is not http://127.0.0.1:PORT

Only the standard library here: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".uniqu3-installed"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# Both cores: two pytest-xdist workers, each taking a whole test file at a time (a file's
# module fixtures, the live server and the browser, stay in one process). Arguments given to
# `dev.py test` come after these, so `-n 0` runs everything in one process.
PARALLEL = ("-n", "2", "--dist", "loadfile")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.returncode


def ensure_installed() -> None:
    """A virtualenv with the project and its dev tools, reinstalled when pyproject changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on any python3
        sys.exit("UNIQU3 needs Python 3.11 or newer.")
    if not PYTHON.exists():
        say("creating the virtualenv in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("installing UNIQU3 and its dependencies (pip install -e '.[dev]')")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    # mypy's cache can keep a newly installed package as missing: start it afresh.
    shutil.rmtree(ROOT / ".mypy_cache", ignore_errors=True)
    STAMP.write_text(wanted)


def flask(*args: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    return run(BIN / "flask", "--app", "wsgi", *args, env=env, check=check)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def record_base_url(instance: Path, port: str) -> str:
    """The address links in e-mails start with, written where every development process reads
    it (uniqu3/config.py, DEV_BASE_URL_FILE): the CLI in another terminal agrees with the server."""
    base_url = (os.environ.get("BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    instance.mkdir(exist_ok=True)
    (instance / "dev-base-url").write_text(base_url + "\n", encoding="utf-8")
    return base_url


def cmd_run() -> None:
    ensure_installed()
    port = os.environ.get("PORT", "5000")
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BASE_URL": record_base_url(ROOT / "instance", port)}
    say("migrating the database (flask db upgrade)")
    flask("db", "upgrade", env=env)
    say("loading the demo data (admin demo: adds nothing when it is there already)")
    flask("admin", "demo", env=env, check=False)  # a refusal (demo seller deactivated) is printed
    say(f"UNIQU3 runs at {url}/  (demo login: demo@uniqu3.fr / demo-uniqu3; "
        f"e-mails at {url}/dev/mailbox). Stop with Ctrl+C.")
    flask("run", "--host", "127.0.0.1", "--port", port, "--debug", env=env)


def cmd_test(extra: list[str]) -> None:
    ensure_installed()
    in_ci = os.environ.get("CI", "").lower() == "true"
    say("ruff check")
    run(BIN / "ruff", "check", ".")
    say("mypy (uniqu3 and jobs, settings in pyproject.toml)")
    run(BIN / "mypy")

    say("tests on SQLite (with the browser tests and the HTML checker)")
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    status = run(PYTHON, "-m", "pytest", *PARALLEL, *extra, env=env, check=False)

    pg_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    if reachable("127.0.0.1", 5432) or in_ci or "TEST_DATABASE_URL" in os.environ:
        say(f"tests on PostgreSQL ({pg_url})")
        pg_env = {**os.environ, "TEST_DATABASE_URL": pg_url}
        status = run(PYTHON, "-m", "pytest", *PARALLEL, "-m", "not browser and not html", *extra,
                     env=pg_env, check=False) or status
    else:
        say("PostgreSQL is not running on 127.0.0.1:5432: its pass is skipped "
            "(set TEST_DATABASE_URL to run it)")
    sys.exit(status)


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        sys.exit(__doc__)  # exit status 1: the command was not understood
    if sys.argv[1] == "run":
        cmd_run()
    else:
        cmd_test(sys.argv[2:])


if __name__ == "__main__":
    main()
