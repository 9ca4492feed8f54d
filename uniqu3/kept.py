"""A bounded map of what a process worked out once and keeps for its later requests."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """Up to `most` values, the oldest kept out first. Each web worker has its own: what is
    kept is what any worker would work out again from the same key."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def keep(self, key: K, value: V) -> V:
        self._values[key] = value
        if len(self._values) > self.most:
            # Another thread may have emptied it in between (a threaded server): nothing to do.
            with suppress(KeyError):
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
