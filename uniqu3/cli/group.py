"""The `flask admin …` group and what its commands share."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import click
from flask import Blueprint, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from ..extensions import db
from ..i18n import format_moment
from ..security import storable_id

#: The most rows a listing shows; it says how many more there are.
LIST_LIMIT = 200

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


def short(text: str, limit: int = 70) -> str:
    """A text on one line of at most `limit` characters (an error message in a column)."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_rows(query: Select[*tuple[Any, ...]]) -> tuple[list[Any], int]:
    """The first LIST_LIMIT rows of `query` (ordered), and how many it has in all."""
    rows = list(db.session.execute(query.limit(LIST_LIMIT)).all())
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return rows, total or 0


def show_rows(headers: list[str], rows: list[list[str]], *, empty: str, total: int = 0) -> None:
    """A listing: `empty` (what to do next) when there is no row, else the table, and how many
    rows of `total` it leaves out."""
    if not rows:
        click.echo(empty)
        return
    click.echo(table(headers, rows))
    if total > len(rows):
        click.echo(_("… et %(count)d autre(s).", count=total - len(rows)))


Row = TypeVar("Row")


def rows_by_id(model: type[Row], ids: Iterable[int], missing: Callable[[str], str],
               refusal: Callable[[Row], str | None] = lambda row: None) -> dict[int, Row]:
    """The rows of `model` with these ids; any id that names none refuses the command with
    `missing(ids)` (a translated message), and so does a row for which `refusal` gives a
    message; nothing changed."""
    ids = list(ids)
    column: Any = getattr(model, "id")  # noqa: B009  (every model's primary key)
    storable = [i for i in ids if storable_id(i)]  # the others name no row
    found: dict[int, Row] = {getattr(row, "id"): row for row in db.session.scalars(  # noqa: B009
        select(model).where(column.in_(storable)))} if storable else {}
    unknown = sorted(set(ids) - set(found))
    if unknown:
        raise click.ClickException(missing(", ".join(map(str, unknown))))
    for row in found.values():
        message = refusal(row)
        if message is not None:
            raise click.ClickException(message)
    return found


def show_secret(warning: str, secret: str) -> None:
    """A secret shown once: the warning, then the secret alone on the last line (`tail -n 1`)."""
    click.echo(warning)
    click.echo(secret)
