"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import TEST_DATABASE_URL
from uniqu3 import create_app
from uniqu3.config import driver_url
from uniqu3.extensions import Base, db
from uniqu3.search_index import include_object


@pytest.fixture
def empty_database_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    base = driver_url(TEST_DATABASE_URL)
    schema = f"uq_mig_{os.getpid()}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(empty_database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # The search index (FTS5 table or pg_trgm index) is outside the models, by design.
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "include_object": include_object})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"sellers", "orders", "order_lines", "shipments", "shipment_lines",
                "order_events", "outbox_emails", "api_keys", "webhook_endpoints",
                "webhook_events", "webhook_deliveries"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_search_migration_fills_and_indexes_the_orders_already_there(empty_database_url: str) -> None:
    """Orders placed before 5b1f0c3a9d2e are found by the search once it has run."""
    from sqlalchemy import select

    from uniqu3.models import Order
    from uniqu3.seller.queries import seller_filters

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="ee24ed7d2bc1")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sellers (id, email, shop_name, password_hash, payment_instructions, locale, "
                "active, session_version, created_at) VALUES (1, 's@example.fr', 'S', 'x', '', 'fr', true, "
                "1, '2026-01-01 10:00:00')"))
            conn.execute(text(
                "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
                "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
                "payment_note, cancel_reason, created_at, updated_at, version) VALUES (7, "
                "'UQ-2026-000007', 1, 'E7', '', 'Zoé Lefèvre', 'zoe@example.fr', '{}', '{}', 'EUR', 100, "
                "'shipped', '', '', '2026-01-02 10:00:00', '2026-01-02 10:00:00', 3)"))
            for position, sku in ((2, "CARD-01"), (1, "BAG-RED-01")):
                conn.execute(text(
                    "INSERT INTO order_lines (order_id, position, sku, title, quantity, unit_price_cents, "
                    f"shipped_quantity) VALUES (7, {position}, '{sku}', 't', 1, 50, 1)"))
            conn.execute(text(
                "INSERT INTO shipments (order_id, number, carrier, carrier_label, tracking_number, "
                "tracking_url, shipped_on, status, created_at) VALUES (7, 1, 'colissimo', 'Colissimo', "
                "'6A12345678901', '', '2026-01-03', 'shipped', '2026-01-03 10:00:00')"))
        upgrade()
        order = db.session.get(Order, 7)
        assert order is not None
        assert order.search_text == ("UQ-2026-000007\nZoé Lefèvre\nzoe@example.fr\nBAG-RED-01\nCARD-01\n"
                                     "6A12345678901")
        for query in ("uq-2026-0000", "LEFÈVRE", "zoe@exa", "red-0", "card", "345678901", "ZZZ-none"):
            found = db.session.scalars(select(Order.id).where(*seller_filters(1, query)))
            assert list(found) == ([] if query == "ZZZ-none" else [7]), query
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def _seed_before_problems(conn: Any) -> None:
    """A seller, an order and two parcels awaiting receipt (one due later, one overdue)."""
    conn.execute(text(
        "INSERT INTO sellers (id, email, shop_name, password_hash, payment_instructions, locale, "
        "active, session_version, created_at, orders_version) VALUES (1, 's@example.fr', 'S', 'x', '', "
        "'fr', true, 1, '2026-01-01 10:00:00', 0)"))
    conn.execute(text(
        "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
        "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
        "payment_note, cancel_reason, created_at, updated_at, version, search_text) VALUES (7, "
        "'UQ-2026-000007', 1, 'E7', '', 'Zoé', 'zoe@example.fr', '{}', '{}', 'EUR', 100, "
        "'shipped', '', '', '2026-01-02 10:00:00', '2026-01-02 10:00:00', 3, '')"))
    conn.execute(text(
        "INSERT INTO order_lines (id, order_id, position, sku, title, quantity, unit_price_cents, "
        "shipped_quantity) VALUES (1, 7, 1, 'BAG', 't', 2, 50, 2)"))
    for number, due in ((1, "2999-01-10 10:00:00"), (2, "2026-01-10 10:00:00")):
        conn.execute(text(
            "INSERT INTO shipments (id, order_id, number, carrier, carrier_label, tracking_number, "
            "tracking_url, shipped_on, status, created_at, receipt_requested_at, receipt_due_at) VALUES "
            f"({number}, 7, {number}, 'colissimo', 'Colissimo', '6A1234567890{number}', '', '2026-01-03', "
            f"'awaiting_receipt', '2026-01-03 10:00:00', '2026-01-03 10:00:00', '{due}')"))
        conn.execute(text(f"INSERT INTO shipment_lines (shipment_id, order_line_id, quantity) "
                          f"VALUES ({number}, 1, 1)"))


def test_the_problems_migration_walks_the_parcels_there_and_back(empty_database_url: str) -> None:
    """c4d8e2f1a6b3: parcels awaiting receipt get their reminder; down, a parcel in problem goes
    back to awaiting receipt, and a lost parcel stops the downgrade with the reason."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="c4e2a7d91b35")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)
        upgrade()
        with db.engine.begin() as conn:
            rows = conn.execute(text(
                "SELECT id, reminder_due_at FROM shipments ORDER BY id")).all()
            assert [(i, str(at)[:19] if at else None) for i, at in rows] == [
                (1, "2999-01-08 10:00:00"), (2, None)]
            assert conn.execute(text("SELECT open_problems FROM orders")).scalar() == 0
            conn.execute(text("UPDATE shipments SET status = 'problem' WHERE id = 1"))
            conn.execute(text(
                "INSERT INTO shipment_problems (shipment_id, reported_at, reason, message, ip, user_agent, "
                "seller_notified) VALUES (1, '2026-01-05 10:00:00', 'not_received', 'rien', '', '', true)"))
            conn.execute(text("UPDATE shipments SET status = 'lost' WHERE id = 2"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the reason and exits
            downgrade(revision="c4e2a7d91b35")
        with db.engine.begin() as conn:
            # Lines, parcels and history are all still there after the refused downgrade.
            assert conn.execute(text("SELECT count(*) FROM shipments")).scalar() == 2
            conn.execute(text("UPDATE shipments SET status = 'received' WHERE id = 2"))
        downgrade(revision="c4e2a7d91b35")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, status FROM shipments ORDER BY id")).all() == [
                (1, "awaiting_receipt"), (2, "received")]
            assert conn.execute(text("SELECT count(*) FROM shipment_lines")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 1
        downgrade(revision="base")
        db.engine.dispose()


def test_the_closed_quantity_migration_starts_at_zero_and_keeps_closures_on_the_way_down(
        empty_database_url: str) -> None:
    """d5a1c7e3b902: lines already there close nothing; down, a closed quantity stops the
    downgrade with the reason (it would be to ship again), and nothing is lost."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="c4d8e2f1a6b3")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)
        upgrade(revision="d5a1c7e3b902")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT shipped_quantity, closed_quantity FROM order_lines")).all() == [
                (2, 0)]
            conn.execute(text("UPDATE order_lines SET shipped_quantity = 1, closed_quantity = 1"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the reason and exits
            downgrade(revision="c4d8e2f1a6b3")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT closed_quantity FROM order_lines")).scalar() == 1
            conn.execute(text("UPDATE order_lines SET closed_quantity = 0"))
        downgrade(revision="c4d8e2f1a6b3")
        with db.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("order_lines")}
            assert "closed_quantity" not in columns and "shipped_quantity" in columns
        downgrade(revision="base")
        db.engine.dispose()


def test_the_refunds_migration_walks_the_orders_that_owe_money(empty_database_url: str) -> None:
    """e7b3d9f2a416: a cancelled paid order owes what was paid, a paid order its closed
    quantities, the others nothing; down, a recorded refund stops the downgrade."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="d5a1c7e3b902")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)  # order 7: 2 bags at 0.50, one shipped, one closed
            conn.execute(text("UPDATE order_lines SET shipped_quantity = 1, closed_quantity = 1"))
            conn.execute(text("UPDATE orders SET paid_at = '2026-01-02 11:00:00'"))
            for order_id, paid, cancelled in ((8, "'2026-01-02 11:00:00'", "'2026-01-03 11:00:00'"),
                                              (9, "NULL", "'2026-01-03 11:00:00'")):
                conn.execute(text(
                    "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
                    "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
                    "payment_note, cancel_reason, created_at, updated_at, version, search_text, paid_at, "
                    f"cancelled_at) VALUES ({order_id}, 'UQ-2026-00000{order_id}', 1, 'E{order_id}', '', "
                    "'Zoé', 'zoe@example.fr', '{}', '{}', 'EUR', 1234, 'cancelled', '', '', "
                    f"'2026-01-02 10:00:00', '2026-01-02 10:00:00', 3, '', {paid}, {cancelled})"))
        upgrade(revision="e7b3d9f2a416")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, refund_due_cents FROM orders ORDER BY id")).all() == [
                (7, 50), (8, 1234), (9, 0)]
            conn.execute(text(
                "INSERT INTO refunds (order_id, amount_cents, method, reference, note, recorded_at, actor, "
                "actor_label) VALUES (8, 1234, 'transfer', '', '', '2026-01-04 10:00:00', 'seller', '')"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the reason and exits
            downgrade(revision="d5a1c7e3b902")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM refunds")).scalar() == 1
            conn.execute(text("DELETE FROM refunds"))
        downgrade(revision="d5a1c7e3b902")
        assert "refunds" not in set(inspect(db.engine).get_table_names())
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE order_lines SET closed_quantity = 0"))
        db.session.remove()

def test_the_lost_parcels_migration_makes_their_items_due(empty_database_url: str) -> None:
    """f3a8c1d5e7b9: a paid order with a lost parcel owes its items not shipped again, less what
    was refunded; an order without a lost parcel keeps its amount; down, the closed ones alone."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="d5a1f3c7e9b2")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)  # order 7: 2 bags at 0.50 in parcels 1 and 2
            # Parcel 1 lost (its bag back to ship), 0.10 refunded; order 8 paid, nothing lost.
            conn.execute(text("UPDATE shipments SET status = 'lost' WHERE id = 1"))
            conn.execute(text("UPDATE order_lines SET shipped_quantity = 1"))
            conn.execute(text("UPDATE orders SET paid_at = '2026-01-02 11:00:00', refund_due_cents = 0"))
            conn.execute(text(
                "INSERT INTO refunds (order_id, amount_cents, method, reference, note, recorded_at, actor, "
                "actor_label) VALUES (7, 10, 'transfer', '', '', '2026-01-04 10:00:00', 'seller', '')"))
            conn.execute(text(
                "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
                "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
                "payment_note, cancel_reason, created_at, updated_at, version, search_text, paid_at, "
                "refund_due_cents) VALUES (8, 'UQ-2026-000008', 1, 'E8', '', 'Zoé', 'zoe@example.fr', '{}', "
                "'{}', 'EUR', 1234, 'paid', '', '', '2026-01-02 10:00:00', '2026-01-02 10:00:00', 3, '', "
                "'2026-01-02 11:00:00', 99)"))
        upgrade(revision="f3a8c1d5e7b9")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, refund_due_cents FROM orders ORDER BY id")).all() == [
                (7, 40), (8, 99)]
        downgrade(revision="d5a1f3c7e9b2")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, refund_due_cents FROM orders ORDER BY id")).all() == [
                (7, 0), (8, 99)]
            conn.execute(text("DELETE FROM refunds"))
        db.session.remove()


def test_the_shipping_migration_keeps_totals_and_walks_them_back(empty_database_url: str) -> None:
    """d5a1f3c8e920: orders already there have no shipping and the same total; down, a total
    that includes shipping goes back to the items' total, and the new columns are gone."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="d9e1b7c2a4f6")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)
        upgrade(revision="d5a1f3c8e920")
        with db.engine.begin() as conn:
            assert conn.execute(text(
                "SELECT total_cents, shipping_cents, buyer_phone, pickup_point FROM orders")).one() == (
                100, 0, None, None)
            conn.execute(text(
                "UPDATE orders SET shipping_cents = 490, total_cents = 590, buyer_phone = '+33612345678', "
                "pickup_point = '{\"carrier\": \"mondial_relay\", \"id\": \"FR-012345\"}'"))
        downgrade(revision="d9e1b7c2a4f6")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT total_cents FROM orders")).scalar() == 100
            columns = {column["name"] for column in inspect(conn).get_columns("orders")}
            assert not columns & {"shipping_cents", "buyer_phone", "pickup_point"}
            assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 1
        upgrade(revision="d5a1f3c8e920")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT total_cents, shipping_cents FROM orders")).one() == (100, 0)
        downgrade(revision="base")
        db.engine.dispose()


def test_the_counts_migration_counts_the_orders_there_as_the_workflow_does(empty_database_url: str) -> None:
    """c4e8a2f6b1d3: each seller's tab counts start from its orders, bucket by bucket as
    workflow/counts.py counts them (a second seller without orders counts none); down, the
    columns are gone."""
    from uniqu3.workflow import counts

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="f2b6c9d4e1a7")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)  # order 7, shipped
            conn.execute(text(
                "INSERT INTO sellers (id, email, shop_name, password_hash, payment_instructions, locale, "
                "active, session_version, created_at, orders_version) VALUES (2, 't@example.fr', 'T', 'x', "
                "'', 'fr', true, 1, '2026-01-01 10:00:00', 0)"))
            states = [("shipped", 1, 0), ("paid", 1, 0), ("received", 0, 500), ("cancelled", 0, 100),
                      ("awaiting_payment", 0, 0), ("partially_shipped", 2, 300)]
            for n, (status, problems, due) in enumerate(states, start=8):
                conn.execute(text(
                    "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
                    "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
                    "payment_note, cancel_reason, created_at, updated_at, version, search_text, "
                    f"open_problems, refund_due_cents) VALUES ({n}, 'UQ-2026-0000{n:02d}', 1, 'E{n}', '', "
                    f"'Zoé', 'zoe@example.fr', '{{}}', '{{}}', 'EUR', 1234, '{status}', '', '', "
                    f"'2026-01-02 10:00:00', '2026-01-02 10:00:00', 3, '', {problems}, {due})"))
        upgrade(revision="c4e8a2f6b1d3")
        expected = {bucket: 0 for bucket in counts.BUCKETS} | {
            "awaiting_payment": 1, "paid": 1, "partially_shipped": 1, "shipped": 2, "received": 1,
            "cancelled": 1, "open_problems": 3, "refund_due": 3, "other_problems": 1}
        assert counts.counted(db.session) == {1: expected, 2: dict.fromkeys(counts.BUCKETS, 0)}
        assert counts.recount(db.session) == []  # what the migration stored is what it counts
        db.session.rollback()
        downgrade(revision="f2b6c9d4e1a7")
        with db.engine.begin() as conn:
            columns = {column["name"] for column in inspect(conn).get_columns("sellers")}
            assert not {c for c in columns if c.startswith("orders_") and c != "orders_version"}
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def test_the_item_count_migration_adds_up_the_lines_of_the_orders_there(empty_database_url: str) -> None:
    """e8c2f4a6d1b7: each order already there counts its lines' quantities (an order of two
    lines, 2 + 3 items; one without lines, none); down, the column is gone."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="b7d2e5a9c3f1")
        with db.engine.begin() as conn:
            _seed_before_problems(conn)  # order 7: one line of 2
            conn.execute(text(
                "INSERT INTO order_lines (id, order_id, position, sku, title, quantity, unit_price_cents, "
                "shipped_quantity, closed_quantity) VALUES (2, 7, 2, 'HAT', 't', 3, 10, 0, 0)"))
            conn.execute(text(
                "INSERT INTO orders (id, reference, seller_id, external_id, request_hash, buyer_name, "
                "buyer_email, billing_address, shipping_address, currency, total_cents, status, "
                "payment_note, cancel_reason, created_at, updated_at, version, search_text) VALUES (8, "
                "'UQ-2026-000008', 1, 'E8', '', 'Léo', 'leo@example.fr', '{}', '{}', 'EUR', 0, "
                "'cancelled', '', '', '2026-01-02 10:00:00', '2026-01-02 10:00:00', 1, '')"))
        upgrade(revision="e8c2f4a6d1b7")
        with db.engine.begin() as conn:
            counted = conn.execute(text("SELECT id, item_count FROM orders ORDER BY id")).all()
            assert counted == [(7, 5), (8, 0)]
        downgrade(revision="b7d2e5a9c3f1")
        with db.engine.begin() as conn:
            assert "item_count" not in {c["name"] for c in inspect(conn).get_columns("orders")}
        downgrade(revision="base")
        db.engine.dispose()
