"""One way to write a date per language, from Babel: the pages, the e-mails, the CSV and the
CLI agree (French: 20/11/2026, English: 11/20/2026 and « Friday, November 20, 2026 »)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.mail.conftest import _no_worker  # noqa: F401  (fixture: these tests render, nothing sends)
from uniqu3.extensions import db
from uniqu3.i18n import format_day, format_moment
from uniqu3.mail import render_email
from uniqu3.models import Order, OutboxEmail, Seller

from .conftest import visible_text

Make = Callable[..., Order]
AUTUMN = datetime(2026, 11, 20, 9, 30, 27, tzinfo=UTC)  # 10:30 in Paris
SUMMER = datetime(2026, 7, 3, 22, 5, tzinfo=UTC)  # already the 4th in Paris


@pytest.mark.parametrize(("locale", "day", "long_day", "moment", "evidence", "cell"), [
    ("fr", "20/11/2026", "vendredi 20 novembre 2026", "20/11/2026 à 10:30", "20/11/2026 à 10:30:27",
     "20/11/2026 10:30"),
    ("en", "11/20/2026", "Friday, November 20, 2026", "11/20/2026 at 10:30", "11/20/2026 at 10:30:27",
     "11/20/2026 10:30"),
])
def test_the_formats_of_each_language(ctx: object, locale: str, day: str, long_day: str, moment: str,
                                      evidence: str, cell: str) -> None:
    assert format_day(AUTUMN, locale) == format_day(date(2026, 11, 20), locale) == day
    assert format_day(AUTUMN, locale, long=True) == long_day
    assert format_moment(AUTUMN, locale) == moment
    assert format_moment(AUTUMN, locale, seconds=True) == evidence
    assert format_moment(AUTUMN, locale, joined=False) == cell
    assert format_moment(AUTUMN, locale, long=True) == moment.replace(day, long_day)


def test_the_day_is_the_day_in_paris(ctx: object) -> None:
    assert format_day(SUMMER, "fr") == "04/07/2026"
    assert format_moment(SUMMER, "en") == "7/4/2026 at 00:05"
    assert format_day(None, "fr") == format_moment(None, "en") == ""


def test_an_english_seller_reads_the_same_dates_on_the_page_in_the_email_and_the_csv(
        login: Callable[..., object], make_seller: Callable[..., Seller], make_order: Make) -> None:
    seller = make_seller("shop@example.com", shop_name="Linen & Co", locale="en")
    order = make_order(owner=seller)
    sc = login(seller)
    page = visible_text(sc.get(f"/commandes/{order.reference}").get_data(as_text=True))  # type: ignore[attr-defined]
    assert "11/20/2026 at 10:30" in page and "20/11/2026" not in page
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E1")).one()
    email = render_email(row)
    assert "Friday, November 20, 2026" in email.text
    csv = sc.get("/commandes/export.csv").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "11/20/2026 10:30" in csv and "20/11/2026" not in csv
