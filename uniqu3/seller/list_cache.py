"""The « Commandes » results, rendered once and reused while the seller's orders stay the same.

A seller reloads the list far more often than the orders change. The rendered results (tabs
with their counts, the rows, the pager) depend only on the seller's orders, the filter and
the language; the page around them (CSRF token, messages shown once) is rendered on each
view. `Seller.orders_version` is bumped by the workflow in the same transaction as any change
to one of the seller's orders, so results kept under (seller, orders_version, language,
filter) are never older than what the seller would see by querying again: the version is
read with the seller, before the orders, in the same request.

One cache per process (each web worker keeps its own), bounded by ORDERS_LIST_CACHE_SIZE
entries, least recently used out first; 0 turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, current_app
from markupsafe import Markup

EXTENSION_KEY = "uniqu3.orders_list_cache"


class RenderedLists:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()  # threaded servers share one cache per process

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        if self.size <= 0:
            return Markup(render())
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
                return html
        # Rendered outside the lock: two requests may both render a missing entry, which is
        # harmless (same result), while a slow render never holds the others up.
        html = Markup(render())
        with self._lock:
            self._entries[key] = html
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def rendered_lists() -> RenderedLists:
    return current_app.extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = RenderedLists(app.config.get("ORDERS_LIST_CACHE_SIZE", 256))
