r"""Fill a database with a realistic, workflow-consistent data set for the benchmarks.

    python -m bench.generate --database-url sqlite:///bench/out/bench.sqlite --reset \
        --sellers 1000 --orders 1000000 --big-seller-orders 100000 --overdue 1000 --seed 42

One seller, big@bench.uniqu3.fr (password « bench-password »), holds --big-seller-orders
orders; --overdue parcels are awaiting receipt past their deadline (every other parcel
awaiting receipt is due in the future). The schema comes from the migrations
(`flask db upgrade`) when the tables do not exist yet; the tables must be empty
(--reset drops and recreates them first). A PostgreSQL URL may carry its own schema:
`postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from uniqu3.extensions import Base
from uniqu3.passwords import hash_password
from uniqu3.workflow import counts

from . import formats, load
from .common import dialect_of, engine_url, print_block, shown_url
from .dataset import BIG_SELLER_PASSWORD, TABLE_ORDER, Dataset, Sizes, Stats

MODULE = "bench.generate"


@dataclass
class Report:
    url: str
    sizes: Sizes
    method: str
    stats: Stats
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    size_bytes: int | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def figures(self) -> list[tuple[str, str]]:
        load_s = self.seconds["load"]
        status = self.stats.order_status
        total = sum(status.values()) or 1
        figures = [
            ("database", f"{self.stats_dialect()} {shown_url(self.url)}"),
            ("sizes", f"{self.sizes.sellers} sellers, {self.sizes.orders} orders "
                      f"({self.sizes.big_seller_orders} for the big seller), "
                      f"{self.sizes.overdue} overdue, seed {self.sizes.seed}"),
            ("now", self.sizes.now.isoformat(timespec="seconds")),
            ("load method", self.method),
            ("schema", f"{self.seconds['schema']:.1f} s"),
            ("load (generate + insert)", f"{load_s:.1f} s ({self.rows / load_s:,.0f} rows/s, "
                                         f"{self.sizes.orders / load_s:,.0f} orders/s; the inserts "
                                         f"took {self.seconds['insert']:.1f} s)"),
            ("after load", f"{self.seconds['after']:.1f} s ({self.after_label()})"),
            ("total", f"{sum(self.seconds[k] for k in ('schema', 'load', 'after')):.1f} s"),
        ]
        figures += [(f"rows {name}", f"{self.counts[name]:,}") for name in TABLE_ORDER]
        figures.append(("order status", ", ".join(
            f"{name} {count / total:.1%}" for name, count in status.most_common())))
        shipments = self.stats.shipment_status
        figures.append(("shipment status", ", ".join(
            f"{name} {count:,}" for name, count in shipments.most_common())))
        figures.append(("received by", ", ".join(
            f"{name} {count:,}" for name, count in self.stats.received_by.most_common())))
        figures.append(("awaiting receipt", f"{self.stats.awaiting_future:,} due in the future, "
                                            f"{self.stats.overdue:,} overdue"))
        if self.size_bytes is not None:
            figures.append(("database size", f"{self.size_bytes / 1024 ** 3:.2f} GiB"))
        return figures

    def stats_dialect(self) -> str:
        return dialect_of(self.url)

    def after_label(self) -> str:
        if self.stats_dialect() == "postgresql":
            return "sequences, VACUUM ANALYZE" if self.seconds.get("vacuum") else "sequences"
        return "WAL checkpoint" + (", ANALYZE" if self.seconds.get("analyze") else "")


# ----------------------------------------------------------------------------- schema
def search_path_schema(url: str) -> str | None:
    """The schema named by `options=-csearch_path=…` in a PostgreSQL URL, if any."""
    options = make_url(url).query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    for part in unquote(options or "").split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0].strip() or None
    return None


def prepare_schema(url: str, *, reset: bool) -> None:
    """Empty tables with the migrations' schema, or a clear refusal."""
    dialect = dialect_of(url)
    if dialect == "sqlite":
        path = make_url(url).database
        if not path or path == ":memory:":
            raise SystemExit("Give an SQLite file: sqlite:///bench/out/bench.sqlite")
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        if dialect == "postgresql":
            schema = search_path_schema(url)
            with engine.begin() as conn:
                if reset and schema and schema != "public":
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                elif reset:
                    Base.metadata.drop_all(conn)
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
                if schema:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        if not inspect(engine).has_table("orders"):
            _migrate(url)
        with engine.connect() as conn:
            for name in TABLE_ORDER:
                if conn.scalar(select(func.count()).select_from(Base.metadata.tables[name])):
                    raise SystemExit(f"The table {name} is not empty: use --reset to start over.")
    finally:
        engine.dispose()


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from uniqu3 import create_app
    from uniqu3.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, profile="development")
    with app.app_context():
        upgrade()
        db.engine.dispose()


# ----------------------------------------------------------------------------- load
def generate(url: str, sizes: Sizes, *, reset: bool = False, method: str = "auto",
             batch_rows: int = 100_000, jobs: int = 2, analyze: bool = False, vacuum: bool = True,
             password_hash: str | None = None, quiet: bool = False) -> Report:
    """Load the data set into `url`; `jobs=2` writes from a second process."""
    url = engine_url(url)
    dialect = dialect_of(url)
    if method == "auto":
        method = "copy" if dialect == "postgresql" else "executemany"
    load.check_method(method, dialect)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    prepare_schema(url, reset=reset)
    seconds["schema"] = time.perf_counter() - start

    engine = create_engine(url)
    try:
        dataset = Dataset(sizes, password_hash=password_hash or hash_password(BIG_SELLER_PASSWORD),
                          formats=formats.for_method(method, engine.dialect))
        start = time.perf_counter()

        def progress(done: int) -> None:
            if not quiet:
                print(f"  {done:,} orders in {time.perf_counter() - start:.0f} s", file=sys.stderr,
                      flush=True)

        if jobs > 1:
            sink = load.ProcessSink(url, method, batch_rows=batch_rows)
            try:
                stats = dataset.write(sink, progress)
                _, seconds["insert"] = sink.finish()
            except BaseException:
                sink.abort()
                raise
        else:
            with engine.connect() as conn:
                if dialect == "sqlite":
                    load.sqlite_fast_load(conn)
                inline = load.InlineSink(load.Writer(conn, method), batch_rows=batch_rows)
                stats = dataset.write(inline, progress)
                _, seconds["insert"] = inline.finish()
        seconds["load"] = time.perf_counter() - start

        start = time.perf_counter()
        with engine.connect() as conn:
            if dialect == "sqlite":
                load.sqlite_after_load(conn, analyze=analyze)
                seconds["analyze"] = float(analyze)
            else:
                load.postgresql_after_load(conn)
                if vacuum:
                    load.postgresql_vacuum_analyze(conn)
                    seconds["vacuum"] = 1.0
        with Session(engine) as session:  # rows written without the workflow: count its tabs
            counts.recount(session)
            session.commit()
        seconds["after"] = time.perf_counter() - start
        report = Report(url, sizes, f"{method}, {jobs} process{'es' if jobs > 1 else ''}", stats,
                        seconds=seconds)
        with engine.connect() as conn:
            for name in TABLE_ORDER:
                table = Base.metadata.tables[name]
                report.counts[name] = conn.scalar(select(func.count()).select_from(table))
            report.size_bytes = _size(conn, url)
        return report
    finally:
        engine.dispose()


def _size(conn: Any, url: str) -> int | None:
    if dialect_of(url) == "sqlite":
        path = make_url(url).database
        return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    names = ", ".join(f"'{name}'" for name in TABLE_ORDER)
    return conn.scalar(text(
        f"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
        f"WHERE c.relname IN ({names}) AND c.relnamespace = ANY (current_schemas(false)::regnamespace[])"
    ))


# ----------------------------------------------------------------------------- command
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="SQLAlchemy URL (default: $DATABASE_URL)")
    parser.add_argument("--sellers", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--big-seller-orders", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=1000,
                        help="parcels awaiting receipt past their deadline")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--now", help="ISO time the data ends at (default: now, UTC)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the tables first")
    parser.add_argument("--method", choices=("auto", *load.METHODS), default="auto",
                        help="core: Core insert() executemany with SQLAlchemy's type processing; "
                             "executemany: the driver's executemany on rows already in storage "
                             "format (SQLite); copy: PostgreSQL COPY (auto: copy on PostgreSQL, "
                             "executemany on SQLite)")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="rows per written batch")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2,
                        help="2: a second process inserts while this one generates")
    parser.add_argument("--analyze", action="store_true", help="SQLite: run ANALYZE after the load")
    parser.add_argument("--no-vacuum", action="store_true", help="PostgreSQL: skip VACUUM ANALYZE")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    sizes = Sizes(sellers=args.sellers, orders=args.orders, big_seller_orders=args.big_seller_orders,
                  overdue=args.overdue, seed=args.seed, now=now.astimezone(UTC))
    try:
        sizes.check()
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    report = generate(args.database_url, sizes, reset=args.reset, method=args.method,
                      batch_rows=args.batch_rows, jobs=args.jobs, analyze=args.analyze,
                      vacuum=not args.no_vacuum)
    print_block("Data generator", report.figures(), module=MODULE, argv=argv, child_process=args.jobs > 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
