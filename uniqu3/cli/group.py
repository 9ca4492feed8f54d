"""The `flask admin …` group and what its commands share."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import click
from flask import Blueprint, current_app
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..i18n import format_moment
from ..security import storable_id

bp = Blueprint("admin", __name__, cli_group="admin")
bp.cli.help = (
    "Commandes des opérateurs : vendeurs, clés d'API, import de commandes, "
    "réception automatique, e-mails, webhooks, données de démonstration."
)
bp.cli.subcommand_metavar = "COMMANDE [ARGUMENTS]..."  # Click's other words: click_french.py


def command(name: str, **options: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """`bp.cli.command`, run in the default language (there is no request to choose one)."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                return func(*args, **kwargs)

        return bp.cli.command(name, **options)(run)

    return decorate


def when(value: datetime | None) -> str:
    """A time as the operator reads it (Paris)."""
    if value is None:
        return "—"
    return format_moment(value, current_app.config["BABEL_DEFAULT_LOCALE"], joined=False)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns, readable in a terminal and by `grep`."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [headers, *rows]]
    return "\n".join(lines)


Row = TypeVar("Row")


def rows_by_id(model: type[Row], ids: Iterable[int], missing: Callable[[str], str]) -> dict[int, Row]:
    """The rows of `model` with these ids; any id that names none refuses the command with
    `missing(ids)` (a translated message), nothing changed."""
    ids = list(ids)
    column: Any = getattr(model, "id")  # noqa: B009  (every model's primary key)
    storable = [i for i in ids if storable_id(i)]  # the others name no row
    found: dict[int, Row] = {getattr(row, "id"): row for row in db.session.scalars(  # noqa: B009
        select(model).where(column.in_(storable)))} if storable else {}
    unknown = sorted(set(ids) - set(found))
    if unknown:
        raise click.ClickException(missing(", ".join(map(str, unknown))))
    return found
