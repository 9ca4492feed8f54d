"""Helpers shared by the benchmark commands: timing, peak memory, the printed block of figures.

Every command prints one block of figures that ends with the machine it ran on and the
command line that reproduces it, so a block can be pasted into bench/RESULTS.md as is.
"""

from __future__ import annotations

import os
import platform
import resource
import shlex
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from uniqu3.config import driver_url


def engine_url(url: str) -> str:
    """The SQLAlchemy URL the app would use: PostgreSQL goes through psycopg 3; a relative
    SQLite path is made absolute (Flask-SQLAlchemy would take it from the instance folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return parsed.set(database=os.path.abspath(parsed.database)).render_as_string(hide_password=False)
    return driver_url(url)


def shown_url(url: str) -> str:
    """The URL without its password, for printed figures."""
    return make_url(url).render_as_string(hide_password=True)


def dialect_of(url: str) -> str:
    return make_url(engine_url(url)).get_backend_name()


@dataclass
class Timing:
    """Durations of repeated runs, in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """The nearest-rank 95th percentile (the worst run when there are fewer than 20)."""
        ordered = sorted(self.samples)
        rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
        return ordered[rank - 1]

    @property
    def best(self) -> float:
        return min(self.samples)

    def summary_ms(self, digits: int = 2) -> str:
        return (f"median {self.median * 1000:.{digits}f} ms, p95 {self.p95 * 1000:.{digits}f} ms, "
                f"min {self.best * 1000:.{digits}f} ms (n={len(self.samples)})")


def time_calls(fn: Callable[[], Any], *, repeat: int, warmup: int = 1) -> Timing:
    """Run `fn` `warmup` times untimed (caches, prepared plans), then `repeat` times timed."""
    for _ in range(warmup):
        fn()
    timing = Timing()
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timing.samples.append(time.perf_counter() - start)
    return timing


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process (or of its largest finished child), in MB
    (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024


def memory_total() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores, {memory_total()} RAM, load average {load}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["python", "-m", module, *args])


def print_block(title: str, figures: Sequence[tuple[str, str]], *, module: str,
                argv: Sequence[str] | None = None, child_process: bool = False) -> str:
    """Print (and return) one block of figures ending with the machine and the command.

    `child_process`: also give the peak memory of the largest child process waited for."""
    width = max((len(label) for label, _ in figures), default=0)
    lines = [f"== {title} =="]
    lines += [f"{label.ljust(width)}  {value}" for label, value in figures]
    children = peak_rss_mb(resource.RUSAGE_CHILDREN) if child_process else 0
    lines.append(f"{'peak RSS'.ljust(width)}  {peak_rss_mb():.0f} MB"
                 + (f" (child process: {children:.0f} MB)" if children else ""))
    lines.append(f"{'machine'.ljust(width)}  {machine()}")
    lines.append(f"{'command'.ljust(width)}  {command_line(module, argv)}")
    text = "\n".join(lines)
    print(text, flush=True)
    return text
