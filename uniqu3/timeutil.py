"""Time helpers: everything is stored in UTC and shown in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is UTC:
        return value  # what the database gives back (models.UTCDateTime): nothing to convert
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def paris_today(now: datetime | None = None) -> date:
    return as_utc(now or utcnow()).astimezone(PARIS).date()


def to_paris(value: datetime) -> datetime:
    return as_utc(value).astimezone(PARIS)


def iso_utc(value: datetime) -> str:
    """`2026-11-20T09:30:12Z`: an instant as the API and the proof of receipt write it."""
    # The first 19 characters with or without microseconds; isoformat's `timespec` argument
    # costs as much again, strftime half as much again.
    return as_utc(value).isoformat()[:19] + "Z"
