"""How generated values are written for each load method, without a second pass over the rows.

- `python`: what SQLAlchemy Core takes (naive UTC datetimes, dates, dicts, booleans); its
  column types then convert every value (the `core` method);
- `sqlite`: the text SQLite stores for those types (the `executemany` method), checked against
  SQLAlchemy's own bind processors before use, so the stored values are exactly what the app
  writes;
- `copy`: what psycopg's COPY takes (datetimes and dates as they are, JSON as text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from uniqu3.extensions import Base

_fromtimestamp = datetime.fromtimestamp


@dataclass(frozen=True)
class Formats:
    name: str
    moment: Callable[[float], Any]  # epoch seconds -> a UTCDateTime column's value
    day: Callable[[date], Any]
    json: Callable[[Any], Any]
    flag: Callable[[bool], Any]


def naive_utc(t: float) -> datetime:
    return _fromtimestamp(t, UTC).replace(tzinfo=None)


def _sqlite_moment(t: float) -> str:
    # "2026-11-20 09:30:00.000000", as SQLAlchemy's SQLite DATETIME stores it
    return _fromtimestamp(t, UTC).isoformat(" ", "microseconds")[:26]


def _json_encoder() -> Callable[[Any], str]:
    """`json.dumps` with its default settings, without building an encoder on every call."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:
        return json.dumps
    encode = c_make_encoder(None, None, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                            False, False, True)
    sample = {"name": "Zoé « bis »", "lines": [{"quantity": 2, "price": 3490}], "note": None,
              "ok": True, "x": 1.5}

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps if dumps(sample) == json.dumps(sample) else json.dumps


def _identity(value: Any) -> Any:
    return value


PYTHON = Formats("python", naive_utc, _identity, _identity, _identity)
COPY = Formats("copy", naive_utc, _identity, _json_encoder(), _identity)


def sqlite_formats(dialect: Dialect) -> Formats:
    """The SQLite storage formats, each checked against the app's column types."""
    tables = Base.metadata.tables
    checks: list[tuple[TypeEngine[Any], Any, Any]] = [
        (tables["orders"].c.created_at.type, 1_764_000_000.123456, naive_utc(1_764_000_000.123456)),
        (tables["shipments"].c.shipped_on.type, date(2026, 1, 2), date(2026, 1, 2)),
        (tables["orders"].c.billing_address.type, {"name": "Zoé", "line2": ""}, None),
        (tables["sellers"].c.active.type, True, True),
    ]
    fast = Formats("sqlite", _sqlite_moment, date.isoformat, _json_encoder(), int)
    chosen: dict[str, Callable[[Any], Any]] = {}
    for (column_type, generated, python_value), field in zip(checks, ("moment", "day", "json", "flag"),
                                                              strict=True):
        expected_type = {"moment": DateTime, "day": Date, "json": JSON, "flag": Boolean}[field]
        impl = column_type.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        base = getattr(impl, "impl_instance", impl)
        if not isinstance(base, expected_type) or process is None:
            raise RuntimeError(f"Unexpected column type {column_type!r} for {field}.")
        fast_fn = getattr(fast, field)
        value = python_value if python_value is not None else generated
        if fast_fn(generated) != process(value):
            raise RuntimeError(f"The fast SQLite format for {field} differs from SQLAlchemy's: "
                               f"{fast_fn(generated)!r} != {process(value)!r}.")
        chosen[field] = fast_fn
    return Formats("sqlite", **chosen)


def for_method(method: str, dialect: Dialect) -> Formats:
    if method == "core":
        return PYTHON
    if method == "copy":
        return COPY
    return sqlite_formats(dialect)
