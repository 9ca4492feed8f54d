from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from uniqu3.timeutil import PARIS, as_utc, iso_utc, to_paris


@pytest.mark.parametrize(("value", "written"), [
    (datetime(2026, 11, 20, 9, 30, 12, 412486, tzinfo=UTC), "2026-11-20T09:30:12Z"),
    (datetime(2026, 11, 20, 9, 30, 12, tzinfo=UTC), "2026-11-20T09:30:12Z"),
    (datetime(2026, 11, 20, 9, 30, 12, 999999), "2026-11-20T09:30:12Z"),  # naive: UTC
    (datetime(2026, 11, 20, 10, 30, 12, 5, tzinfo=timezone(timedelta(hours=1))), "2026-11-20T09:30:12Z"),
    (datetime(2026, 7, 1, 0, 0, 0, tzinfo=PARIS), "2026-06-30T22:00:00Z"),
    (datetime(987, 1, 2, 3, 4, 5, tzinfo=UTC), "0987-01-02T03:04:05Z"),
])
def test_iso_utc_writes_the_instant_in_utc_to_the_second(value: datetime, written: str) -> None:
    assert iso_utc(value) == written


def test_as_utc_gives_aware_utc_and_to_paris_the_same_instant() -> None:
    naive = datetime(2026, 3, 29, 1, 30)  # the night Paris moves to summer time
    assert as_utc(naive) == naive.replace(tzinfo=UTC) and as_utc(naive).tzinfo is UTC
    aware = datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)
    assert as_utc(aware).tzinfo is UTC and as_utc(aware) == aware
    assert to_paris(naive).isoformat() == "2026-03-29T03:30:00+02:00"
