"""Writing generated rows fast, in large batches inside few transactions, indexes kept.

Three ways, chosen with `--method`:
- `core`: SQLAlchemy Core `insert(table)` executemany with one dict per row; every value goes
  through the column types' bind processors (simple, but slow in Python);
- `executemany` (SQLite default): the driver's `executemany` on rows generated directly in the
  storage format of each column type (see `formats`);
- `copy` (PostgreSQL default): psycopg `COPY … FROM STDIN`.

Rows are generated in this process and, with `jobs=2`, written by a child process, so that
generating and inserting use both cores.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from typing import Any

from sqlalchemy import Connection, Table, create_engine, insert, text

from uniqu3.extensions import Base

from .dataset import COLUMNS, TABLE_ORDER

METHODS = ("core", "executemany", "copy")
Batch = dict[str, list[tuple[Any, ...]]]


def check_method(method: str, dialect: str) -> None:
    if method not in METHODS:
        raise ValueError(f"Unknown load method {method!r}: one of {', '.join(METHODS)}.")
    if method == "copy" and dialect != "postgresql":
        raise ValueError("--method copy is for PostgreSQL only.")
    if method == "executemany" and dialect != "sqlite":
        raise ValueError("--method executemany is for SQLite (PostgreSQL: copy or core).")


class Writer:
    """Writes batches of rows, parents first, and commits every `commit_every` batches.

    A row is always generated after the rows it refers to, so writing each batch's tables
    in `TABLE_ORDER` keeps every foreign key pointing at a row already written.
    """

    def __init__(self, conn: Connection, method: str, *, commit_every: int = 10) -> None:
        check_method(method, conn.dialect.name)
        self.conn = conn
        self.method = method
        self.commit_every = commit_every
        self.written = dict.fromkeys(TABLE_ORDER, 0)
        self.seconds = 0.0
        self._batches = 0
        self._tables: dict[str, Table] = {name: Base.metadata.tables[name] for name in TABLE_ORDER}
        for name, columns in COLUMNS.items():
            expected = set(self._tables[name].c.keys())
            if set(columns) != expected:
                raise RuntimeError(f"The generator's columns for {name} differ from the model: "
                                   f"{sorted(set(columns) ^ expected)}.")

    def write(self, batch: Batch) -> None:
        start = time.perf_counter()
        if not self.conn.in_transaction():
            self.conn.begin()  # COPY goes through the driver's cursor: commit() must see it
        for name in TABLE_ORDER:
            rows = batch.get(name)
            if not rows:
                continue
            columns = COLUMNS[name]
            if self.method == "core":
                self.conn.execute(insert(self._tables[name]),
                                  [dict(zip(columns, row, strict=True)) for row in rows])
            elif self.method == "executemany":
                marks = ", ".join("?" * len(columns))
                self.conn.exec_driver_sql(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",
                                          rows)
            else:
                raw = self.conn.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cursor, cursor.copy(
                    f"COPY {name} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
            self.written[name] += len(rows)
        self._batches += 1
        if self._batches % self.commit_every == 0:
            self.conn.commit()
        self.seconds += time.perf_counter() - start

    def finish(self) -> None:
        self.conn.commit()


class InlineSink:
    """Rows written by this process, whenever `batch_rows` are waiting."""

    def __init__(self, writer: Writer, *, batch_rows: int = 100_000) -> None:
        self.writer = writer
        self.batch_rows = batch_rows
        self.buffers: Batch = {name: [] for name in TABLE_ORDER}

    def maybe_flush(self) -> None:
        if sum(len(rows) for rows in self.buffers.values()) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        self.writer.write(self.buffers)
        for rows in self.buffers.values():
            rows.clear()

    def finish(self) -> tuple[dict[str, int], float]:
        self.flush()
        self.writer.finish()
        return self.writer.written, self.writer.seconds


class ProcessSink:
    """Rows written by a child process with its own connection; generation goes on meanwhile.

    At most `depth` batches wait in between, so memory stays bounded when writing is slower.
    """

    def __init__(self, url: str, method: str, *, batch_rows: int = 100_000, depth: int = 3) -> None:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                              else "spawn")
        self.batch_rows = batch_rows
        self.buffers: Batch = {name: [] for name in TABLE_ORDER}
        self.waited = 0.0  # time the generator spent waiting for the writer
        self._batches: Any = context.Queue(maxsize=depth)
        self._results: Any = context.Queue()
        self._process = context.Process(target=_write_batches, name="bench-writer",
                                        args=(url, method, self._batches, self._results))
        self._process.start()

    def maybe_flush(self) -> None:
        if sum(len(rows) for rows in self.buffers.values()) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        # The queue pickles in a background thread: hand it copies, then reuse the lists.
        batch = {name: rows[:] for name, rows in self.buffers.items() if rows}
        for rows in self.buffers.values():
            rows.clear()
        if batch:
            self._put(batch)

    def finish(self) -> tuple[dict[str, int], float]:
        self.flush()
        self._put(None)
        while True:
            try:
                status, *payload = self._results.get(timeout=1)
                break
            except queue.Empty:
                if not self._process.is_alive():
                    raise RuntimeError("The writer process ended without a report.") from None
        self._process.join()
        if status != "ok":
            raise RuntimeError(f"The writer process failed:\n{payload[0]}")
        return payload[0], payload[1]

    def _put(self, batch: Batch | None) -> None:
        start = time.perf_counter()
        while True:
            try:
                self._batches.put(batch, timeout=1)
                break
            except queue.Full:
                self._check_writer()
        self.waited += time.perf_counter() - start

    def _check_writer(self) -> None:
        if self._process.is_alive():
            return
        try:
            status, *payload = self._results.get_nowait()
        except queue.Empty:
            raise RuntimeError("The writer process died.") from None
        raise RuntimeError(f"The writer process failed:\n{payload[0] if status != 'ok' else ''}")

    def abort(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _write_batches(url: str, method: str, batches: Any, results: Any) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                sqlite_fast_load(conn)
            writer = Writer(conn, method)
            while (batch := batches.get()) is not None:
                writer.write(batch)
            writer.finish()
            results.put(("ok", writer.written, writer.seconds))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        engine.dispose()


def sqlite_fast_load(conn: Connection) -> None:
    """Durability off for the load only (a crash means generating again); a big page cache
    for the indexes with random keys (references, SKUs, tracking numbers, dedupe keys)."""
    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    conn.exec_driver_sql("PRAGMA synchronous=OFF")
    conn.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB
    conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
    conn.commit()


def sqlite_after_load(conn: Connection, *, analyze: bool) -> None:
    if analyze:
        conn.exec_driver_sql("ANALYZE")
    conn.commit()
    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.commit()


def postgresql_after_load(conn: Connection) -> None:
    """Ids were given explicitly: move each sequence past them."""
    for name in TABLE_ORDER:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"
        ))
    conn.commit()


def postgresql_vacuum_analyze(conn: Connection) -> None:
    """What autovacuum would do soon after a bulk load: statistics and the visibility map."""
    conn.commit()
    autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
    for name in TABLE_ORDER:
        autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
