"""Data safety: migrations keep the data, SQLite's web and worker processes do not fail each
other, and the documented backup and restore bring the orders back.

The migration walk inserts rows at the FIRST revision (through the tables as they were then)
and upgrades one revision at a time to the last, then downgrades back to the first where a
downgrade exists, checking after every step that every row and value is still there.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, Engine, MetaData, create_engine, func, select, text

from tests.conftest import TEST_DATABASE_URL, cached_hash, need_service, order_input
from tests.reliability.conftest import (
    FLASK,
    ROOT,
    Figures,
    knob,
    needs_postgresql,
    needs_sqlite,
    process_env,
    run_command,
)
from uniqu3 import create_app, search_index
from uniqu3.config import driver_url
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller
from uniqu3.services import workflow
from uniqu3.workflow import Actor

pytestmark = pytest.mark.reliability

MIGRATIONS = ROOT / "migrations"
NOW = datetime(2026, 11, 20, 9, 30)  # stored naive, in UTC, as the models store it


def sqlalchemy_url(url: str) -> str:
    return driver_url(url)


# ----------------------------------------------------------------------------- data at the first revision
def first_revision_rows() -> dict[str, list[dict[str, Any]]]:
    """One shop's life in rows: an order shipped in part and awaiting receipt, another
    awaiting payment, their history and e-mails. `@table:n` names a row inserted before."""
    address = {"name": "Camille Martin", "line1": "12 rue des Lilas", "line2": "", "postal_code": "69003",
               "city": "Lyon", "country": "FR"}
    order = {"seller_id": "@sellers:0", "request_hash": "f" * 64, "buyer_name": "Camille Martin",
             "buyer_email": "camille@example.fr", "billing_address": address, "shipping_address": address,
             "currency": "EUR", "payment_note": "", "cancel_reason": "", "created_at": NOW, "updated_at": NOW,
             "cancelled_at": None}
    email = {"to_email": "camille@example.fr", "to_name": "Camille Martin", "recipient_role": "buyer",
             "locale": "fr", "claimed_at": None, "claim_token": None, "created_at": NOW,
             "next_attempt_at": NOW}
    event = {"at": NOW, "actor": "api", "actor_label": "storefront"}
    line = {"title": "Carte brodée", "quantity": 1, "unit_price_cents": 550, "shipped_quantity": 0}
    return {
        "sellers": [{"email": "atelier@example.fr", "shop_name": "L'Atelier de Lina", "password_hash": "x",
                     "payment_instructions": "Virement : IBAN FR76…", "notification_email": "lina@example.fr",
                     "locale": "fr", "active": True, "session_version": 3, "created_at": NOW}],
        "api_keys": [{"name": "storefront", "prefix": "abcdefghij", "key_hash": "0" * 64,
                      "seller_id": "@sellers:0", "created_at": NOW, "last_used_at": NOW, "revoked_at": None}],
        "orders": [
            {**order, "reference": "UQ-2026-000001", "external_id": "MKT-1", "total_cents": 7530,
             "status": "partially_shipped", "paid_at": NOW, "version": 4},
            {**order, "reference": "UQ-2026-000002", "external_id": "MKT-2", "total_cents": 550,
             "status": "awaiting_payment", "paid_at": None, "version": 1},
        ],
        "order_lines": [
            {**line, "order_id": "@orders:0", "position": 1, "sku": "BAG-RED-01", "title": "Sac cabas rouge",
             "quantity": 2, "unit_price_cents": 3490, "shipped_quantity": 2},
            {**line, "order_id": "@orders:0", "position": 2, "sku": "CARD-01"},
            {**line, "order_id": "@orders:1", "position": 1, "sku": "CARD-01"},
        ],
        "shipments": [{"order_id": "@orders:0", "number": 1, "carrier": "colissimo",
                       "carrier_label": "Colissimo", "tracking_number": "6A12345678901",
                       "tracking_url": "https://www.laposte.fr/x?code=6A1", "shipped_on": date(2026, 11, 20),
                       "status": "awaiting_receipt", "request_key": "k-1", "created_at": NOW,
                       "receipt_requested_at": NOW, "receipt_due_at": datetime(2026, 11, 27, 9, 30),
                       "received_at": None, "received_by": None, "proof_ip": None, "proof_user_agent": None}],
        "shipment_lines": [{"shipment_id": "@shipments:0", "order_line_id": "@order_lines:0", "quantity": 2}],
        "order_events": [
            {**event, "order_id": "@orders:0", "kind": "order_placed",
             "details": {"source": "api", "lines": 2}},
            {**event, "order_id": "@orders:0", "kind": "shipped", "actor": "seller",
             "actor_label": "atelier@example.fr",
             "details": {"shipment_id": 1, "items": [{"sku": "BAG-RED-01"}]}},
            {**event, "order_id": "@orders:1", "kind": "order_placed", "details": {}},
        ],
        "outbox_emails": [
            {**email, "dedupe_key": "E1:order:1", "kind": "E1", "order_id": "@orders:0", "shipment_id": None,
             "to_email": "lina@example.fr", "to_name": "L'Atelier de Lina", "recipient_role": "seller",
             "data": {"order_id": 1}, "status": "sent", "attempts": 1, "last_error": "", "sent_at": NOW,
             "message_id": "<uq1@uniqu3app.fr>", "subject": "Nouvelle commande", "body_text": "…",
             "body_html": "<p>…"},
            {**email, "dedupe_key": "E5:shipment:1", "kind": "E5", "order_id": "@orders:0",
             "shipment_id": "@shipments:0", "status": "pending", "attempts": 2,
             "data": {"order_id": 1, "shipment_id": 1, "due_at": "2026-11-27T09:30:00+00:00"},
             "last_error": "Serveur SMTP indisponible", "sent_at": None, "message_id": None, "subject": "",
             "body_text": None, "body_html": None},
        ],
    }


def insert_rows(engine: Engine) -> dict[str, dict[int, dict[str, Any]]]:
    """Insert `first_revision_rows()` through the tables as they are now; returns them by id."""
    meta = MetaData()
    meta.reflect(engine)
    inserted: dict[str, list[int]] = {}
    stored: dict[str, dict[int, dict[str, Any]]] = {}
    with engine.begin() as conn:
        for name, rows in first_revision_rows().items():
            table = meta.tables[name]
            inserted[name] = []
            stored[name] = {}
            for row in rows:
                values = {}
                for key, value in row.items():
                    if isinstance(value, str) and value.startswith("@"):
                        ref, index = value[1:].split(":")
                        value = inserted[ref][int(index)]
                    if key in table.c:
                        if isinstance(value, dict | list) and not isinstance(table.c[key].type, JSON):
                            value = json.dumps(value)
                        values[key] = value
                missing = [c.name for c in table.c if not c.nullable and c.server_default is None
                           and c.name not in values and not c.primary_key]
                assert not missing, f"{name}: give the first revision's rows a value for {missing}"
                new_id = conn.execute(table.insert().values(values).returning(table.c.id)).scalar_one()
                inserted[name].append(new_id)
                stored[name][new_id] = values
    return stored


def check_rows(engine: Engine, stored: dict[str, dict[int, dict[str, Any]]], step: str,
               lost: list[str]) -> int:
    """Every inserted row is there with the same values (in the columns that still exist):
    adds to `lost` each row gone or value changed; returns how many values were compared."""
    meta = MetaData()
    meta.reflect(engine)
    checked = 0
    with engine.connect() as conn:
        for name, rows in stored.items():
            if name not in meta.tables:
                lost += [f"{step}: table {name} is gone: {name}[{row_id}]" for row_id in rows]
                continue
            table = meta.tables[name]
            found = {row.id: row._mapping for row in conn.execute(select(table).where(table.c.id.in_(rows)))}
            lost += [f"{step}: rows of {name} lost: {row_id}" for row_id in rows if row_id not in found]
            for row_id, values in rows.items():
                for key, value in values.items():
                    if key not in table.c or row_id not in found:
                        continue
                    got = found[row_id][key]
                    if isinstance(got, str) and isinstance(value, dict | list):
                        got = json.loads(got)
                    if isinstance(got, datetime) and got.tzinfo is not None:
                        got = got.astimezone(UTC).replace(tzinfo=None)
                    if got != value:
                        lost.append(f"{step}: {name}[{row_id}].{key} is {got!r}, was {value!r}")
                    checked += 1
    return checked


def walk(app: Flask, directory: Path) -> dict[str, Any]:
    """Upgrade from the first revision to the last with data, then back. Returns the counts and
    `lost` (each row or value a step lost); the walk stops at the first step that loses any."""
    with app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config(str(directory))
        script = ScriptDirectory.from_config(config)
        revisions = list(reversed(list(script.walk_revisions())))  # first → last
        assert [r.down_revision for r in revisions[:1]] == [None]
        upgrade(str(directory), revision=revisions[0].revision)
        stored = insert_rows(db.engine)
        lost: list[str] = []
        checks = check_rows(db.engine, stored, f"at {revisions[0].revision}", lost)
        upgrades, downgrades = 1, 0  # up to the first revision, data inserted there
        walked = {"revisions": len(revisions), "rows": sum(len(rows) for rows in stored.values()),
                  "lost": lost}
        for revision in revisions[1:]:
            upgrade(str(directory), revision=revision.revision)
            upgrades += 1
            checks += check_rows(db.engine, stored, f"upgraded to {revision.revision}", lost)
            if lost:
                db.engine.dispose()
                return {**walked, "upgrades": upgrades, "downgrades": 0, "values_checked": checks}
        # The app itself works on the migrated data: an action on the order awaiting payment.
        order_id = next(iter(stored["orders"]))
        second = list(stored["orders"])[1]
        db.session.remove()
        result = workflow().confirm_payment(second, actor=Actor.seller("atelier@example.fr"))
        assert result.changed and db.session.get(Order, order_id).reference == "UQ-2026-000001"
        db.session.remove()
        # …which changed that order: from now on its new values are the ones to keep.
        reflected = MetaData()
        reflected.reflect(db.engine, only=["orders"])
        orders = reflected.tables["orders"]
        with db.engine.connect() as conn:
            row = conn.execute(select(orders).where(orders.c.id == second)).one()
        assert row.status == "paid"
        stored["orders"][second].update({key: row._mapping[key] for key in stored["orders"][second]})
        for revision in reversed(revisions[1:]):
            module = revision.module
            if not hasattr(module, "downgrade") or lost:
                break
            downgrade(str(directory), revision=revision.down_revision)
            downgrades += 1
            checks += check_rows(db.engine, stored, f"downgraded below {revision.revision}", lost)
        db.engine.dispose()
    return {**walked, "upgrades": upgrades, "downgrades": downgrades, "values_checked": checks}


@pytest.fixture
def migration_app(fresh_database: Callable[[str], str]) -> Iterator[Flask]:
    url = fresh_database("migrations")
    yield create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})


def test_every_migration_keeps_the_data_up_and_down(migration_app: Flask, figures: Figures) -> None:
    result = walk(migration_app, MIGRATIONS)
    lost = result.pop("lost")
    figures.record_findings("migrations_walk", {"rows_lost": lost}, **result)


@pytest.fixture
def extra_migration(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of the migrations with one more revision on top (`body` is its upgrade())."""

    def make(body: str) -> Path:
        directory = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS, directory)
        config = ScriptDirectory(str(directory))
        head = config.get_current_head()
        (directory / "versions" / "ffff_extra.py").write_text(
            f'"""extra"""\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = "ffff"\n'
            f'down_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n\n\n'
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n")
        return directory

    return make


def test_the_walk_notices_a_migration_that_loses_rows(
    migration_app: Flask, extra_migration: Callable[[str], Path],
) -> None:
    directory = extra_migration("    op.execute(\"DELETE FROM order_events WHERE kind = 'shipped'\")")
    lost = walk(migration_app, directory)["lost"]
    assert lost and all("upgraded to ffff: rows of order_events lost" in loss for loss in lost), lost


RECREATE_ORDERS = '''    with op.batch_alter_table("orders", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(20), nullable=True))'''


@pytest.mark.parametrize("foreign_keys_off", [False, True])
def test_on_sqlite_a_migration_rebuilding_a_table_needs_foreign_keys_off(
    migration_app: Flask, extra_migration: Callable[[str], Path], foreign_keys_off: bool, figures: Figures,
) -> None:
    """SQLite changes a column by rebuilding the table (batch mode); with foreign keys on (as
    the app's connections have them), dropping the old `orders` deletes every line, parcel
    and history entry by cascade. The migration must turn them off first, as shown here."""
    needs_sqlite("SQLite's table rebuilds")
    body = ('    op.execute("PRAGMA foreign_keys=OFF")\n' if foreign_keys_off else "") + RECREATE_ORDERS
    directory = extra_migration(body)
    lost = walk(migration_app, directory)["lost"]
    if foreign_keys_off:
        figures.record_findings("migrations_sqlite_table_rebuild", {"lost_with_foreign_keys_off": lost})
    else:
        figures.record("migrations_sqlite_table_rebuild", lost_with_foreign_keys_on=len(lost))
        assert any("rows of order_lines lost" in loss for loss in lost), lost  # the walk sees the cascade


# ----------------------------------------------------------------------------- SQLite: two writers
WRITER = r"""
import sys, time, traceback
from pathlib import Path
from sqlalchemy import text
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.services import workflow
from uniqu3.mail import deliver
from uniqu3.workflow import Actor, signals
from tests.conftest import order_input

role, count, start, web_done = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
app = create_app()
errors = done = 0
with app.app_context():
    mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
    timeout = db.session.execute(text("PRAGMA busy_timeout")).scalar()
    db.session.remove()
    while time.time() < start:
        time.sleep(0.005)
    if role == "web":  # the web process: actions; their e-mails are the worker's (as with Redis)
        with signals.emails_queued.muted():
            for i in range(count):
                try:
                    order = workflow().place_order(order_input("atelier@example.fr", f"MKT-WAL-{i}"),
                                                   actor=Actor.api("shop")).order
                    workflow().confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
                    done += 1
                except Exception:
                    errors += 1
                    traceback.print_exc()
        web_done.touch()
    else:  # the worker: delivers while the web process writes, until it is done and nothing is left
        deadline = time.time() + 150
        while time.time() < deadline:
            finished = web_done.exists()
            try:
                sent = len(deliver(limit=10).sent)
            except Exception:
                errors += 1
                traceback.print_exc()
                sent = 0
            done += sent
            if finished and not sent:
                break
print(f"{role} mode={mode} busy_timeout={timeout} done={done} errors={errors}")
sys.exit(1 if errors else 0)
"""


def test_sqlite_web_and_worker_processes_write_at_once_without_failing_each_other(
    tmp_path: Path, figures: Figures,
) -> None:
    needs_sqlite("SQLite's WAL journal and busy timeout")
    count = knob("WAL_ORDERS", 40)
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    env = process_env(url)  # development profile: e-mails kept for the dev mailbox, marked sent
    run_command([FLASK, "--app", "wsgi", "db", "upgrade"], env)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(Seller.__table__.insert().values(
            email="atelier@example.fr", shop_name="Atelier", password_hash=cached_hash("x"),
            payment_instructions="", locale="fr", active=True, session_version=1, created_at=NOW))
    start = time.time() + 3  # both processes start writing at the same moment
    marker = tmp_path / "web-done"
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, role, str(count), str(start), str(marker)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
                 for role in ("web", "worker")]
    outputs = [p.communicate(timeout=180)[0] for p in processes]
    lines = [next((line for line in out.splitlines() if line.startswith(("web ", "worker "))), "")
             for out in outputs]
    reported = {line.split()[0]: dict(field.split("=") for field in line.split()[1:])
                for line in lines if line}
    with engine.connect() as conn:
        orders = conn.scalar(select(func.count()).select_from(Order.__table__))
        statuses = dict(conn.execute(select(OutboxEmail.__table__.c.status, func.count())
                                     .group_by(OutboxEmail.__table__.c.status)).all())
    engine.dispose()
    # Each process counts the writes that failed (« database is locked »…) and prints its traceback.
    lock_errors = [out for role, out in zip(("web", "worker"), outputs, strict=True)
                   for _ in range(int(reported.get(role, {}).get("errors", 1)))]
    figures.record_findings("sqlite_two_writers", {"lock_errors": lock_errors}, orders_written=orders,
                            emails_sent_meanwhile=int(reported.get("worker", {}).get("done", 0)),
                            outbox=statuses)
    assert [p.returncode for p in processes] == [0, 0], "\n".join(outputs)
    assert all(fields["mode"] == "wal" and fields["busy_timeout"] == "10000" for fields in reported.values())
    assert orders == count
    assert statuses == {"sent": 3 * count}  # E1, E2, E3 of each order, sent by the worker meanwhile


# ----------------------------------------------------------------------------- backup and restore
def snapshot_orders(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        orders = conn.execute(select(Order.__table__.c.reference, Order.__table__.c.status,
                                     Order.__table__.c.total_cents).order_by(Order.__table__.c.id)).all()
        events = conn.scalar(select(func.count()).select_from(OrderEvent.__table__))
        emails = conn.scalar(select(func.count()).select_from(OutboxEmail.__table__))
    engine.dispose()
    return [*map(tuple, orders), ("events", events), ("emails", emails)]


def differences(before: list[tuple[Any, ...]], after: list[tuple[Any, ...]], where: str) -> list[str]:
    """Each order (or number of history entries, of e-mails) of `before` not found as it was."""
    return [f"{where}: {row} lost or changed" for row in before if row not in after]


def count_orders(snapshot: list[tuple[Any, ...]]) -> int:
    return sum(1 for row in snapshot if row[0] not in ("events", "emails"))


@pytest.fixture
def shop_database(fresh_database: Callable[[str], str]) -> str:
    """A migrated database with a few orders in several states."""
    url = fresh_database("backup")
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    with app.app_context():
        upgrade(str(MIGRATIONS))
        db.session.add(Seller(email="atelier@example.fr", shop_name="Atelier", password_hash=cached_hash("x"),
                              payment_instructions=""))
        db.session.commit()
        seller = Actor.seller("atelier@example.fr")
        for i in range(6):
            order = workflow().place_order(order_input("atelier@example.fr", f"MKT-BAK-{i}"),
                                           actor=Actor.api("shop")).order
            if i % 2:
                workflow().confirm_payment(order.id, actor=seller)
            if i % 3 == 2:
                workflow().cancel(order.id, actor=seller)
        db.session.remove()
        db.engine.dispose()
    return url


def test_sqlite_backup_wipe_restore_finds_the_same_orders(
    shop_database: str, tmp_path: Path, figures: Figures,
) -> None:
    needs_sqlite("the SQLite backup commands")
    path = Path(shop_database.removeprefix("sqlite:///"))
    before = snapshot_orders(shop_database)
    # 1. Python's online backup API (what `sqlite3 … ".backup …"` does), safe while the app runs.
    python_copy = tmp_path / "backup-python.sqlite"
    with sqlite3.connect(path) as source, sqlite3.connect(python_copy) as target:
        source.backup(target)
    # 2. The sqlite3 command line, as RELIABILITY.md and README show it.
    need_service("sqlite3 command", shutil.which("sqlite3") is not None, "Debian's sqlite3 package")
    cli_copy = tmp_path / "backup-cli.sqlite"
    subprocess.run(["sqlite3", str(path), f".backup '{cli_copy}'"], check=True, timeout=60)
    lost: list[str] = []
    backups = (python_copy, cli_copy)
    for backup in backups:
        with sqlite3.connect(backup) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Disaster: the database and its WAL files are gone.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        assert not path.exists()
        shutil.copy(backup, path)  # restore: the app stopped, the copy put in place
        lost += differences(before, snapshot_orders(shop_database), backup.name)
    figures.record_findings("backup_restore_sqlite", {"lost": lost}, methods=len(backups),
                            orders=count_orders(before))


def test_postgresql_dump_wipe_restore_finds_the_same_orders(
    shop_database: str, tmp_path: Path, figures: Figures,
) -> None:
    needs_postgresql("pg_dump and pg_restore")
    schema = shop_database.split("search_path%3D")[1]
    server = TEST_DATABASE_URL.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    before = snapshot_orders(shop_database)
    dump = tmp_path / "uniqu3.dump"
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", server],
                   check=True, timeout=120, env=env)
    engine = create_engine(sqlalchemy_url(server))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))  # disaster
    with pytest.raises(Exception, match="does not exist"):
        snapshot_orders(shop_database)
    subprocess.run(["pg_restore", "--exit-on-error", f"--dbname={server}", str(dump)], check=True,
                   timeout=120, env=env)
    lost = differences(before, snapshot_orders(shop_database), "restored in place")
    restores = 1
    # The same dump into a brand-new database (a new server after a disaster), as documented.
    spare = f"uq_rel_restore_{os.getpid()}"
    autocommit = create_engine(sqlalchemy_url(server), isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {spare}"))
        conn.execute(text(f"CREATE DATABASE {spare}"))
    try:
        spare_url = server.rsplit("/", 1)[0] + f"/{spare}"
        # This dump holds one schema (test isolation), so it does not carry the pg_trgm
        # extension that the search index needs (a whole-database dump, as documented, does):
        # it is installed first where the shop's database has it (`public`, see search_index).
        with engine.connect() as conn:
            trgm_schema = conn.execute(text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
            )).scalar_one()
        spare_engine = create_engine(sqlalchemy_url(spare_url), isolation_level="AUTOCOMMIT")
        with spare_engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{trgm_schema}"'))
            conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA "{trgm_schema}"'))
        subprocess.run(["pg_restore", "--exit-on-error", "--no-owner", f"--dbname={spare_url}",
                        str(dump)], check=True, timeout=120, env=env)
        with spare_engine.connect() as conn:
            indexes = set(conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = :schema"), {"schema": schema}).scalars())
        assert search_index.PG_INDEX in indexes
        spare_engine.dispose()
        lost += differences(before, snapshot_orders(f"{spare_url}?options=-csearch_path%3D{schema}"),
                            "restored into a new database")
        restores += 1
    finally:
        with autocommit.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {spare} WITH (FORCE)"))
        autocommit.dispose()
    # The restored database goes on: sequences were restored too, a new order gets a new id.
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(shop_database)})
    with app.app_context():
        workflow().place_order(order_input("atelier@example.fr", "MKT-AFTER"), actor=Actor.api("shop"))
        assert db.session.scalar(select(func.count()).select_from(Order)) == len(before) - 1
        db.session.remove()
        db.engine.dispose()
    engine.dispose()
    figures.record_findings("backup_restore_postgresql", {"lost": lost}, restores=restores,
                            orders=count_orders(before))


def test_a_new_database_gets_the_search_extension_in_public_not_in_the_apps_schema() -> None:
    """Dropping the app's schema (a test run, a bench data set, a tenant) must not take the
    extension, and with it every trigram index of the database, along."""
    needs_postgresql("a database of its own")
    server = TEST_DATABASE_URL.split("?")[0]
    name = f"uq_rel_ext_{os.getpid()}"
    autocommit = create_engine(sqlalchemy_url(server), isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = sqlalchemy_url(server.rsplit("/", 1)[0] + f"/{name}")
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE SCHEMA shop"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{url}?options=-csearch_path%3Dshop"})
        with app.app_context():
            upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
            db.engine.dispose()
        with admin.connect() as conn:
            home = conn.execute(text("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                     "WHERE extname = 'pg_trgm'")).scalar_one()
            assert home == "public"
            conn.execute(text("DROP SCHEMA shop CASCADE"))
            assert conn.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
                                ).scalar_one() == 1
        admin.dispose()
    finally:
        with autocommit.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        autocommit.dispose()
