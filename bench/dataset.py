"""The generated data set: sellers with their catalogues, and orders that lived through the
workflow's rules, written as plain rows (no ORM objects: a million orders must load in minutes).

Each order gets a fate (paid or not, cancelled, shipped in one or two parcels, receipt
requested or not, confirmed by the buyer or received automatically after the deadline) and
delays between its steps; a step happens only if its time is not after `now`. From that
follow, exactly as the workflow would have written them: the stored status
(`derive_status`), the shipped quantities, the version and update time, the history
events, and the outbox e-mails (all marked sent).

Orders are written in time order, so their ids increase with `created_at`. Parcels,
history events and e-mails also get ids in time order across all orders: they wait in a
heap until the next order's creation time has passed, as they would in a real database.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import math
import random
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from uniqu3 import carriers
from uniqu3.search_index import search_text
from uniqu3.timeutil import PARIS
from uniqu3.workflow import counts, derive_status

from . import french
from .formats import PYTHON, Formats, naive_utc

BIG_SELLER_EMAIL = "big@bench.uniqu3.fr"
BIG_SELLER_PASSWORD = "bench-password"
API_KEY_NAME = "Vitrine UNIQU3APP"

DAY = 86_400.0
HOUR = 3_600.0
_PARIS_OFFSET = HOUR  # for the daily rhythm of orders, winter time is close enough

# Fates, as cumulative probabilities (the rest completes normally). Calibrated so that a
# two-year history has about: 5 % awaiting payment, 5 % cancelled, 5 % paid, 3 % partially
# shipped, 12 % shipped, 70 % received.
_P_ABANDONED = 0.045  # never paid
_P_CANCELLED = _P_ABANDONED + 0.05
_P_STALLED = _P_CANCELLED + 0.045  # paid, never shipped (made to order, out of stock)
_P_PARTIAL = _P_STALLED + 0.028  # one parcel sent, the rest never
_P_NO_RECEIPT_REQUEST = _P_PARTIAL + 0.11  # the seller never activates the receipt confirmation
_P_TWO_PARCELS = 0.2
_P_BUYER_CONFIRMS = 0.6  # if within the deadline; the others are received automatically
_GROWTH = 8.0  # orders an hour at the end of the period, relative to its start

# 1 … 5 lines an order, 1 … 5 units a line, as cumulative weights out of 100.
_LINE_COUNT_CUM = tuple(itertools.accumulate((45, 25, 15, 9, 6)))
_QUANTITY_CUM = tuple(itertools.accumulate((75, 17, 5, 2, 1)))
_HOUR_WEIGHTS = (2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 6, 5, 5, 5, 5, 6, 7, 8, 8, 6, 4)
_WEEKDAY_WEIGHTS = (0.95, 0.95, 1, 1, 1, 1.1, 1.2)  # Monday … Sunday
_CARRIER_WEIGHTS = (
    ("colissimo", 40), ("mondial_relay", 22), ("lettre_suivie", 10), ("chronopost", 7),
    ("relais_colis", 5), ("colis_prive", 3), ("dpd", 3), ("gls", 2), ("ups", 2), ("dhl", 2),
    ("fedex", 1), ("other", 1), ("hand_delivery", 2),
)

#: RECEIPT_REMINDER_DAYS's default: days before the deadline that the buyer is reminded.
REMINDER_DAYS = 2

_NO_ORDERS = (0,) * len(counts.COLUMNS)

# Every column of every table, in the order the rows below are built.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sellers": ("id", "email", "shop_name", "password_hash", "payment_instructions",
                "notification_email", "locale", "active", "session_version", "orders_version",
                "created_at", "return_address", *counts.COLUMNS.values()),
    "orders": ("id", "reference", "seller_id", "external_id", "request_hash", "buyer_name",
               "buyer_email", "billing_address", "shipping_address", "currency", "total_cents",
               "status", "paid_at", "payment_note", "cancelled_at", "cancel_reason", "created_at",
               "updated_at", "version", "search_text", "open_problems", "shipping_cents",
               "buyer_phone", "pickup_point", "refund_due_cents", "item_count"),
    "order_lines": ("id", "order_id", "position", "sku", "title", "quantity", "unit_price_cents",
                    "shipped_quantity", "closed_quantity"),
    "shipments": ("id", "order_id", "number", "carrier", "carrier_label", "tracking_number",
                  "tracking_url", "shipped_on", "status", "request_key", "created_at",
                  "receipt_requested_at", "receipt_due_at", "received_at", "received_by",
                  "proof_ip", "proof_user_agent", "reminder_due_at", "reminded_at", "lost_at"),
    "shipment_lines": ("id", "shipment_id", "order_line_id", "quantity"),
    "order_events": ("id", "order_id", "at", "kind", "actor", "actor_label", "details"),
    "outbox_emails": ("id", "dedupe_key", "kind", "order_id", "shipment_id", "to_email", "to_name",
                      "recipient_role", "locale", "data", "status", "attempts", "last_error",
                      "next_attempt_at", "claimed_at", "claim_token", "created_at", "sent_at",
                      "message_id", "subject", "body_text", "body_html"),
}
#: Parents before children: the order in which buffered rows must be written.
TABLE_ORDER = ("sellers", "orders", "order_lines", "shipments", "shipment_lines", "order_events",
               "outbox_emails")

_SUBJECTS = {
    "E1": "Nouvelle commande {ref}",
    "E2": "Votre commande {ref} est enregistrée",
    "E3": "Paiement reçu pour votre commande {ref}",
    "E4": "Votre colis n° {number} de la commande {ref} est expédié",
    "E5": "Confirmez la réception de votre commande {ref}",
    "E6": "Réception confirmée : commande {ref}",
    "E7": "Réception enregistrée automatiquement : commande {ref}",
    "E8": "Votre commande {ref} est annulée",
}


class Sink(Protocol):
    """Where rows go: one list per table, written out when `maybe_flush` decides."""

    buffers: dict[str, list[tuple[Any, ...]]]

    def maybe_flush(self) -> None: ...


@dataclass(frozen=True)
class Sizes:
    sellers: int = 1000
    orders: int = 1_000_000
    big_seller_orders: int = 100_000
    overdue: int = 1000
    seed: int = 42
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    years: float = 2.0
    auto_receipt_days: int = 7

    def check(self) -> None:
        if self.sellers < 1 or self.orders < 1:
            raise ValueError("At least one seller and one order.")
        if not 0 <= self.big_seller_orders <= self.orders:
            raise ValueError("--big-seller-orders must be between 0 and --orders.")
        if self.sellers == 1 and self.big_seller_orders != self.orders:
            raise ValueError("With one seller, --big-seller-orders must equal --orders.")
        if self.overdue < 0 or self.overdue > self.orders // 4:
            raise ValueError("--overdue must be between 0 and a quarter of --orders.")
        if self.now.tzinfo is None:
            raise ValueError("`now` must be an aware UTC datetime.")


@dataclass
class Seller:
    id: int
    email: str
    shop_name: str
    notify: str
    locale: str
    catalogue: list[tuple[str, str, int]]  # sku, title, unit price in cents


class _Parcel:
    """One shipment as it will be written; its id is given when its time comes."""

    __slots__ = ("by", "carrier", "created", "id", "ip", "label", "lines", "number", "order_id",
                 "received", "request_key", "requested", "shipped_on", "status", "tracking",
                 "ua", "url")

    def __init__(self) -> None:
        self.id = 0
        self.lines: list[tuple[int, int]] = []  # (order line id, quantity)


@dataclass
class Stats:
    order_status: Counter[str] = field(default_factory=Counter)
    shipment_status: Counter[str] = field(default_factory=Counter)
    received_by: Counter[str] = field(default_factory=Counter)
    awaiting_future: int = 0
    overdue: int = 0


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def iso(t: float, _from: Callable[..., datetime] = datetime.fromtimestamp) -> str:
    """As the workflow writes times into JSON: `as_utc(x).isoformat()`."""
    return _from(t, UTC).isoformat()


def _fingerprint_json() -> Callable[[Any], str]:
    """`json.dumps(…, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, as
    `OrderInput.fingerprint()` calls it, without building an encoder on every call."""

    def standard(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:
        return standard
    encode = c_make_encoder(None, None, json.encoder.encode_basestring, None, ":", ",", True, False, True)

    def fast(value: Any) -> str:
        return "".join(encode(value, 0))

    sample = {"b": "Zoé « x »", "a": [{"z": 1, "y": "é"}], "c": None}
    return fast if fast(sample) == standard(sample) else standard


_fingerprint_dumps = _fingerprint_json()


def fingerprint(payload: dict[str, Any]) -> str:
    """`OrderInput.fingerprint()` for an order given as the dict `asdict` would make of it
    (the test checks both agree, by replaying generated orders through the workflow)."""
    return hashlib.sha256(_fingerprint_dumps(payload).encode()).hexdigest()


class Dataset:
    def __init__(self, sizes: Sizes, *, password_hash: str, formats: Formats = PYTHON) -> None:
        sizes.check()
        self.sizes = sizes
        self.fmt = formats
        self.password_hash = password_hash
        self.rng = random.Random(sizes.seed)
        self.now = sizes.now.timestamp()
        self.due_seconds = sizes.auto_receipt_days * DAY
        self.stats = Stats()
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = itertools.count()
        self._ids = dict.fromkeys(TABLE_ORDER, 0)
        self._carriers = [carriers.get_carrier(code) for code, _ in _CARRIER_WEIGHTS]
        self._carrier_cum = list(itertools.accumulate(w for _, w in _CARRIER_WEIGHTS))
        self._ascii_first = {name: _ascii(name) for name in french.FIRST_NAMES}
        self._ascii_last = {name: _ascii(name) for name in french.LAST_NAMES}

    # ------------------------------------------------------------------ the whole set
    def write(self, sink: Sink, progress: Callable[[int], None] | None = None) -> Stats:
        sizes = self.sizes
        times = self._order_times()
        owners = self._owners()
        sellers = self._sellers(times, owners, sink)
        overdue = self._overdue_picks(times)
        buffers = sink.buffers
        self._out = {name: buffers[name].append for name in TABLE_ORDER}
        heap = self._heap
        for k in range(sizes.orders):
            t0 = times[k]
            while heap and heap[0][0] <= t0:
                self._release(heapq.heappop(heap))
            self._order(k, t0, sellers[owners[k]], k in overdue)
            if k & 255 == 255:
                sink.maybe_flush()
                if progress is not None and k & 0xFFFF == 0xFFFF:
                    progress(k + 1)
        while heap:
            self._release(heapq.heappop(heap))
        sink.maybe_flush()
        return self.stats

    def _next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    # ------------------------------------------------------------------ when orders arrive
    def _order_times(self) -> list[float]:
        """Sorted creation times over the last `years`: busier in the evening, at weekends,
        around Black Friday and Christmas, and growing (a young marketplace, eight times
        busier at the end than at the start)."""
        rng, n = self.rng, self.sizes.orders
        end = self.now - 60
        start = end - self.sizes.years * 365 * DAY
        starts, weights = [], []
        t = start
        while t < end:
            local = naive_utc(t + _PARIS_OFFSET)
            width = min(HOUR, end - t)
            season = 1.0
            if local.month == 12 and local.day <= 22:
                season = 1.6
            elif local.month == 11 and local.day >= 20:
                season = 1.5
            elif local.month == 8:
                season = 0.8
            growth = _GROWTH ** ((t - start) / (end - start))
            weights.append(width / HOUR * growth * season * _HOUR_WEIGHTS[local.hour]
                           * _WEEKDAY_WEIGHTS[local.weekday()])
            starts.append(t)
            t += HOUR
        total_weight = sum(weights)
        # n sorted uniforms in O(n): normalised cumulative exponential gaps.
        gaps = [rng.expovariate(1.0) for _ in range(n + 1)]
        scale = total_weight / math.fsum(gaps)
        times: list[float] = []
        b, below = 0, 0.0  # current hour bin, weight of the bins before it
        acc = 0.0
        for gap in gaps[:n]:
            acc += gap
            target = acc * scale
            while b < len(weights) - 1 and below + weights[b] < target:
                below += weights[b]
                b += 1
            frac = min(1.0, (target - below) / weights[b]) if weights[b] else 0.0
            times.append(starts[b] + frac * min(HOUR, end - starts[b]))
        return times

    def _owners(self) -> list[int]:
        """Seller index of each order: the big seller's share, the rest Zipf-like."""
        sizes, rng = self.sizes, self.rng
        counts = [sizes.big_seller_orders]
        others = sizes.sellers - 1
        rest = sizes.orders - sizes.big_seller_orders
        if others:
            raw = [1 / (i + 1) ** 0.75 for i in range(others)]
            scale = rest / sum(raw)
            shares = [w * scale for w in raw]
            floors = [int(s) for s in shares]
            leftover = rest - sum(floors)
            by_fraction = sorted(range(others), key=lambda i: shares[i] - floors[i], reverse=True)
            for i in by_fraction[:leftover]:
                floors[i] += 1
            rng.shuffle(floors)
            counts += floors
        owners = [i for i, count in enumerate(counts) for _ in range(count)]
        rng.shuffle(owners)
        return owners

    def _overdue_picks(self, times: list[float]) -> set[int]:
        """Orders whose parcel will be awaiting receipt past its deadline (the sweep's work).

        Preferably from the last two months; they must be old enough for the deadline to
        have passed (paid, shipped and requested a week before now)."""
        wanted = self.sizes.overdue
        if not wanted:
            return set()
        latest = self.now - 10 * DAY
        recent = [k for k, t in enumerate(times) if latest - 50 * DAY <= t <= latest]
        pool = recent if len(recent) >= wanted else [k for k, t in enumerate(times) if t <= latest]
        if len(pool) < wanted:
            raise ValueError(f"--overdue {wanted} needs that many orders older than 10 days.")
        return set(self.rng.sample(pool, wanted))

    # ------------------------------------------------------------------ sellers
    def _sellers(self, times: list[float], owners: list[int], sink: Sink) -> list[Seller]:
        rng, sizes = self.rng, self.sizes
        first_order = [self.now] * sizes.sellers
        for k in range(len(owners) - 1, -1, -1):
            first_order[owners[k]] = times[k]
        orders_of = Counter(owners)
        sellers = []
        for i in range(sizes.sellers):
            seller_id = self._next_id("sellers")
            if i == 0:
                email, shop = BIG_SELLER_EMAIL, "La Grande Boutique"
                size = 2000
            else:
                email = f"vendeur{seller_id:04d}@bench.uniqu3.fr"
                shop = f"{rng.choice(french.SHOP_FIRST)} {rng.choice(french.SHOP_SECOND)}"
                size = max(12, min(400, 10 + orders_of[i] // 40))
            notification = f"commandes.{seller_id:04d}@bench.uniqu3.fr" if rng.random() < 0.2 else None
            locale = "en" if i and rng.random() < 0.08 else "fr"
            created = first_order[i] - rng.uniform(1, 120) * DAY
            seller = Seller(seller_id, email, shop, notification or email, locale, self._catalogue(size))
            sellers.append(seller)
            sink.buffers["sellers"].append((
                seller_id, email, shop, self.password_hash, rng.choice(french.PAYMENT_INSTRUCTIONS),
                notification, locale, self.fmt.flag(True), 1, 0, self.fmt.moment(created),
                f"{shop}\n{rng.randint(1, 90)} rue du Commerce\n{rng.randint(10, 95)}000 Ville",
                *_NO_ORDERS,  # the tabs' counts, set once the orders are written (bench.generate)
            ))
        sink.maybe_flush()
        return sellers

    def _catalogue(self, size: int) -> list[tuple[str, str, int]]:
        rng = self.rng
        n_adj, n_col = len(french.ADJECTIVES), len(french.COLOURS)
        combos = rng.sample(range(len(french.PRODUCTS) * n_adj * n_col), size)
        items = []
        for combo in combos:
            product, rest = divmod(combo, n_adj * n_col)
            adjective, colour = divmod(rest, n_col)
            noun, code, low, high = french.PRODUCTS[product]
            colour_name, colour_code = french.COLOURS[colour]
            sku = f"{code}-{colour_code}-{adjective + 1:02d}"
            title = f"{noun} {french.ADJECTIVES[adjective]} – {colour_name}"
            price = max(100, round(rng.uniform(low, high) / 100) * 100 - rng.choice((10, 10, 50, 0)))
            items.append((sku, title, price))
        return items

    # ------------------------------------------------------------------ one order
    def _address(self, name: str) -> dict[str, str]:
        rng = self.rng
        postal_code, city = rng.choice(french.CITIES)
        number = rng.randint(1, 180)
        suffix = " bis" if rng.random() < 0.04 else ""
        return {
            "name": name,
            "line1": f"{number}{suffix} {rng.choice(french.STREET_TYPES)} {rng.choice(french.STREET_NAMES)}",
            "line2": rng.choice(french.LINE2) if rng.random() < 0.15 else "",
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
        }

    def _order(self, k: int, t0: float, seller: Seller, overdue: bool) -> None:
        rng, now, out, fmt = self.rng, self.now, self._out, self.fmt
        moment = fmt.moment
        order_id = self._next_id("orders")
        reference = f"UQ-{naive_utc(t0).year}-{order_id:06d}"
        external_id = f"UQA-{k + 1:07d}"
        first, last = rng.choice(french.FIRST_NAMES), rng.choice(french.LAST_NAMES)
        buyer_name = f"{first} {last}"
        buyer_email = (f"{self._ascii_first[first]}.{self._ascii_last[last]}{rng.randint(1, 999)}"
                       f"@{rng.choice(french.EMAIL_DOMAINS)}")
        billing = self._address(buyer_name)
        shipping = billing if rng.random() < 0.85 else self._address(
            f"{rng.choice(french.FIRST_NAMES)} {rng.choice(french.LAST_NAMES)}")

        random_ = rng.random
        n_lines = bisect_right(_LINE_COUNT_CUM, random_() * 100) + 1
        items = rng.sample(seller.catalogue, n_lines)
        quantities = [bisect_right(_QUANTITY_CUM, random_() * 100) + 1 for _ in range(n_lines)]
        line_ids = [self._next_id("order_lines") for _ in items]
        total = sum(q * price for q, (_, _, price) in zip(quantities, items, strict=True))

        # ---- the order's life, step by step, each only if its time has come
        actions: list[float] = []  # times of the actions that locked (and bumped) the order
        paid_at = cancelled_at = None
        payment_note = cancel_reason = ""
        parcels: list[_Parcel] = []
        r = rng.random()
        t_pay = t0 + min(7 * DAY, rng.lognormvariate(math.log(5 * HOUR), 1.0))
        if overdue:
            t_pay = min(t_pay, t0 + DAY)
        if _P_ABANDONED <= r < _P_CANCELLED and not overdue:
            if rng.random() < 0.65:
                t_cancel = t0 + rng.lognormvariate(math.log(1.5 * DAY), 0.8)
                t_pay = math.inf
            else:
                t_cancel = t_pay + rng.lognormvariate(math.log(12 * HOUR), 1.0)
            if t_pay <= now:
                paid_at = t_pay
            if t_cancel <= now:
                cancelled_at = t_cancel
                cancel_reason = rng.choice(french.CANCEL_REASONS)
        elif (r >= _P_ABANDONED or overdue) and t_pay <= now:
            paid_at = t_pay
            if r >= _P_STALLED or overdue:
                parcels = self._parcels(order_id, t_pay, quantities, line_ids, r, overdue)
        if paid_at is not None:
            payment_note = rng.choice(french.PAYMENT_NOTES)
            actions.append(paid_at)
        if cancelled_at is not None:
            actions.append(cancelled_at)

        shipped = [0] * n_lines
        position = {line_id: i for i, line_id in enumerate(line_ids)}
        for parcel in parcels:
            for line_id, qty in parcel.lines:
                shipped[position[line_id]] += qty
            actions.append(parcel.created)
            if parcel.requested is not None:
                actions.append(parcel.requested)
            if parcel.received is not None:
                actions.append(parcel.received)
        status = derive_status(
            cancelled=cancelled_at is not None,
            paid=paid_at is not None,
            lines=zip(quantities, shipped, strict=True),
            shipment_statuses=[parcel.status for parcel in parcels],
        ).value
        self.stats.order_status[status] += 1

        # ---- rows: the order and its lines now, the rest when its time comes
        lines_payload = [
            {"sku": sku, "title": title, "quantity": q, "unit_price_cents": price}
            for (sku, title, price), q in zip(items, quantities, strict=True)
        ]
        request_hash = fingerprint({
            "external_id": external_id, "seller_email": seller.email.lower(), "buyer_name": buyer_name,
            "buyer_email": buyer_email.lower(), "billing_address": billing, "shipping_address": shipping,
            "currency": "EUR", "lines": lines_payload,
        })
        billing_json = fmt.json(billing)
        out["orders"]((
            order_id, reference, seller.id, external_id, request_hash, buyer_name, buyer_email,
            billing_json, billing_json if shipping is billing else fmt.json(shipping), "EUR", total,
            status, moment(paid_at) if paid_at is not None else None, payment_note,
            moment(cancelled_at) if cancelled_at is not None else None, cancel_reason,
            moment(t0), moment(max(actions, default=t0)), 1 + len(actions),
            search_text(reference, buyer_name, buyer_email, (sku for sku, _, _ in items),
                        (parcel.tracking for parcel in parcels)),
            0,  # no parcel of a generated order has a problem reported
            0, None, None,  # no shipping costs, phone or pickup point
            # what the workflow leaves owed (workflow.refunds): a cancelled paid order, all of it
            total if paid_at is not None and cancelled_at is not None else 0,
            sum(quantities),
        ))
        add_line = out["order_lines"]
        for i, (sku, title, price) in enumerate(items):
            add_line((line_ids[i], order_id, i + 1, sku, title, quantities[i], price, shipped[i], 0))

        push = self._push
        ctx = (order_id, reference, seller, buyer_name, buyer_email)
        push(t0, 1, (order_id, "order_placed", "api", API_KEY_NAME, {
            "source": "api", "external_id": external_id, "lines": n_lines, "total_cents": total}, None))
        push(t0, 2, ("E1", ctx, None, {}))
        push(t0, 2, ("E2", ctx, None, {}))
        if paid_at is not None:
            push(paid_at, 1, (order_id, "payment_confirmed", "seller", seller.email,
                              {"note": payment_note} if payment_note else {}, None))
            push(paid_at, 2, ("E3", ctx, None, {}))
        if cancelled_at is not None:
            push(cancelled_at, 1, (order_id, "cancelled", "seller", seller.email,
                                   {"reason": cancel_reason} if cancel_reason else {}, None))
            push(cancelled_at, 2, ("E8", ctx, None, {}))
        remaining = list(quantities)
        for parcel in parcels:
            self._parcel_rows(parcel, ctx, items, line_ids, remaining)

    def _parcels(self, order_id: int, t_pay: float, quantities: list[int], line_ids: list[int],
                 r: float, overdue: bool) -> list[_Parcel]:
        """The parcels of a paid order, as far as `now` allows."""
        rng, now = self.rng, self.now
        t_ship = t_pay + min(14 * DAY, rng.lognormvariate(math.log(1.5 * DAY), 0.6))
        if overdue:
            t_ship = min(t_ship, t_pay + DAY)
        if t_ship > now:
            return []
        units = sum(quantities)
        partial = _P_STALLED <= r < _P_PARTIAL and units > 1 and not overdue
        two = not overdue and units > 1 and (partial or rng.random() < _P_TWO_PARCELS)
        splits = [list(quantities)]
        if two:
            first = [rng.randint(0, q) for q in quantities]
            if sum(first) == 0:
                first[0] = 1
            if first == quantities:
                i = next(i for i, q in enumerate(first) if q)
                first[i] -= 1
            splits = [first, [q - f for q, f in zip(quantities, first, strict=True)]]
        request_receipt = overdue or not (_P_PARTIAL <= r < _P_NO_RECEIPT_REQUEST)
        parcels: list[_Parcel] = []
        used_numbers: set[str] = set()
        for number, split in enumerate(splits, start=1):
            if number == 2:
                if partial:
                    break
                t_ship += rng.lognormvariate(math.log(4 * DAY), 0.6)
                if t_ship > now:
                    break
            parcel = _Parcel()
            parcel.order_id, parcel.number, parcel.created = order_id, number, t_ship
            parcel.lines = [(line_ids[i], q) for i, q in enumerate(split) if q]
            self._carrier(parcel, used_numbers)
            parcel.request_key = f"{rng.getrandbits(128):032x}"
            parcel.status, parcel.requested, parcel.received, parcel.by = "shipped", None, None, None
            parcel.ip = parcel.ua = None
            if request_receipt:
                self._receipt(parcel, t_ship, overdue)
            parcels.append(parcel)
        return parcels

    def _carrier(self, parcel: _Parcel, used: set[str]) -> None:
        rng = self.rng
        carrier = self._carriers[bisect_right(self._carrier_cum, rng.random() * self._carrier_cum[-1])]
        number = ""
        while carrier.tracked and (not number or number in used):
            number = _tracking_number(carrier.code, rng)
        used.add(number)
        parcel.carrier = carrier.code
        parcel.label = "Coursier local" if carrier.code == "other" else carrier.name
        parcel.tracking = number
        parcel.url = carriers.tracking_url(carrier, number) if number else None
        parcel.shipped_on = datetime.fromtimestamp(parcel.created, PARIS).date()

    def _receipt(self, parcel: _Parcel, t_ship: float, overdue: bool) -> None:
        """Receipt confirmation activated once delivered; then the buyer or the deadline."""
        rng, now = self.rng, self.now
        t_request = t_ship + rng.lognormvariate(math.log(3.5 * DAY), 0.35)
        if overdue:  # requested more than the deadline ago: due, and not yet swept
            latest = now - self.due_seconds - 60
            t_request = max(t_ship, min(t_request, latest))
        # On the microsecond grid, so that the due time is exactly `auto_receipt_days` later.
        t_request = round(t_request, 6)
        if t_request > now:
            return
        parcel.requested = t_request
        parcel.status = "awaiting_receipt"
        due = t_request + self.due_seconds
        if overdue:
            self.stats.overdue += 1
            return
        confirm_after = rng.lognormvariate(math.log(2 * DAY), 0.8)
        if rng.random() < _P_BUYER_CONFIRMS and confirm_after < self.due_seconds - 60:
            t_received, by = t_request + confirm_after, "buyer"
        else:
            # The job scheduled at the due time (or the five-minute sweep) receives it.
            t_received, by = due + rng.uniform(1, 240), "auto"
        if t_received > now:
            self.stats.awaiting_future += 1
            return
        parcel.status, parcel.received, parcel.by = "received", t_received, by
        if by == "buyer":
            parcel.ip = (f"{rng.choice((78, 80, 82, 86, 88, 90, 92, 109, 176, 185))}."
                         f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
            parcel.ua = rng.choice(french.USER_AGENTS)

    def _parcel_rows(self, parcel: _Parcel, ctx: tuple[Any, ...], items: list[tuple[str, str, int]],
                     line_ids: list[int], remaining: list[int]) -> None:
        order_id, _, seller, _, buyer_email = ctx
        push = self._push
        push(parcel.created, 0, parcel)
        position = {line_id: i for i, line_id in enumerate(line_ids)}
        shipped_items = []
        for line_id, qty in parcel.lines:
            i = position[line_id]
            remaining[i] -= qty
            shipped_items.append({"sku": items[i][0], "quantity": qty})
        push(parcel.created, 1, (order_id, "shipped", "seller", seller.email, {
            "shipment_id": None, "number": parcel.number, "carrier": parcel.label,
            "tracking_number": parcel.tracking, "shipped_on": parcel.shipped_on.isoformat(),
            "items": shipped_items}, parcel))
        push(parcel.created, 2, ("E4", ctx, parcel, {"remaining": [
            {"sku": sku, "title": title, "quantity": left}
            for (sku, title, _), left in zip(items, remaining, strict=True) if left > 0]}))
        if parcel.requested is None:
            return
        due = iso(parcel.requested + self.due_seconds)
        push(parcel.requested, 1, (order_id, "receipt_requested", "seller", seller.email,
                                   {"shipment_id": None, "number": parcel.number, "due_at": due}, parcel))
        push(parcel.requested, 2, ("E5", ctx, parcel, {"due_at": due}))
        if parcel.received is None:
            return
        received = iso(parcel.received)
        if parcel.by == "buyer":
            details = {"shipment_id": None, "number": parcel.number, "ip": parcel.ip}
            push(parcel.received, 1, (order_id, "receipt_confirmed", "buyer", buyer_email, details, parcel))
            push(parcel.received, 2, ("E6", ctx, parcel, {"received_at": received}))
        else:
            push(parcel.received, 1, (order_id, "auto_received", "system", "",
                                      {"shipment_id": None, "number": parcel.number, "due_at": due}, parcel))
            data = {"received_at": received, "due_at": due}
            push(parcel.received, 2, ("E7:seller", ctx, parcel, data))
            push(parcel.received, 2, ("E7:buyer", ctx, parcel, data))

    # ------------------------------------------------------------------ rows in time order
    def _push(self, t: float, kind: int, payload: Any) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), kind, payload))

    def _release(self, item: tuple[float, int, int, Any]) -> None:
        t, _, kind, payload = item
        if kind == 0:
            self._shipment_rows(payload)
        elif kind == 1:
            order_id, event, actor, label, details, parcel = payload
            if parcel is not None:
                details["shipment_id"] = parcel.id
            self._out["order_events"]((self._next_id("order_events"), order_id, self.fmt.moment(t),
                                       event, actor, label, self.fmt.json(details)))
        else:
            self._email_row(t, *payload)

    def _shipment_rows(self, parcel: _Parcel) -> None:
        parcel.id = self._next_id("shipments")
        stats = self.stats
        stats.shipment_status[parcel.status] += 1
        if parcel.by:
            stats.received_by[parcel.by] += 1
        moment = self.fmt.moment
        requested = parcel.requested
        self._out["shipments"]((
            parcel.id, parcel.order_id, parcel.number, parcel.carrier, parcel.label, parcel.tracking,
            parcel.url, self.fmt.day(parcel.shipped_on), parcel.status, parcel.request_key,
            moment(parcel.created),
            moment(requested) if requested is not None else None,
            moment(requested + self.due_seconds) if requested is not None else None,
            moment(parcel.received) if parcel.received is not None else None, parcel.by,
            parcel.ip, parcel.ua, *self._reminder(parcel), None,
        ))
        add = self._out["shipment_lines"]
        for line_id, qty in parcel.lines:
            add((self._next_id("shipment_lines"), parcel.id, line_id, qty))

    def _reminder(self, parcel: _Parcel) -> tuple[str | None, str | None]:
        """(reminder_due_at, reminded_at) as the workflow leaves them: due while still ahead,
        sent once its time came before the parcel was received."""
        if parcel.requested is None:
            return None, None
        at = parcel.requested + self.due_seconds - REMINDER_DAYS * DAY
        if parcel.status == "awaiting_receipt" and at > self.now:
            return self.fmt.moment(at), None
        if parcel.received is None or parcel.received > at:
            return None, self.fmt.moment(at)
        return None, None

    def _email_row(self, t: float, kind: str, ctx: tuple[Any, ...], parcel: _Parcel | None,
                   extra: dict[str, Any]) -> None:
        order_id, reference, seller, buyer_name, buyer_email = ctx
        kind, _, role = kind.partition(":")
        role = role or ("seller" if kind in ("E1", "E6") else "buyer")
        if role == "seller":
            to_email, to_name, locale = seller.notify, seller.shop_name, seller.locale
        else:
            to_email, to_name, locale = buyer_email, buyer_name, "fr"
        data: dict[str, Any] = {"order_id": order_id}
        if parcel is not None:
            data["shipment_id"] = parcel.id
            key = f"{kind}:shipment:{parcel.id}{':' + role if kind == 'E7' else ''}"
        else:
            key = f"{kind}:order:{order_id}"
        data.update(extra)
        email_id = self._next_id("outbox_emails")
        moment = self.fmt.moment
        created = moment(t)
        sent = moment(min(t + self.rng.uniform(0.3, 4.0), self.now))
        subject = _SUBJECTS[kind].format(ref=reference, number=parcel.number if parcel else "")
        self._out["outbox_emails"]((
            email_id, key, kind, order_id, parcel.id if parcel is not None else None, to_email, to_name,
            role, locale, self.fmt.json(data), "sent", 1, "", created, sent, None, created, sent,
            f"<{int(t)}.{email_id}@bench.uniqu3.fr>", subject, None, None,
        ))


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10 ** n):0{n}d}"


def _tracking_number(code: str, rng: random.Random) -> str:
    """A number in the carrier's own format (the tests check them with `check_tracking_number`)."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    if code == "colissimo":
        return rng.choice(("6A", "8L", "5S")) + _digits(rng, 11)
    if code == "lettre_suivie":
        return "1K" + _digits(rng, 11)
    if code == "chronopost":
        return rng.choice(letters) + rng.choice(letters) + _digits(rng, 9) + "FR"
    if code == "mondial_relay":
        return _digits(rng, 8)
    if code == "dpd":
        return _digits(rng, 14)
    if code == "gls":
        return _digits(rng, 11)
    if code == "ups":
        return "1Z" + "".join(rng.choice(letters + "0123456789") for _ in range(6)) + _digits(rng, 10)
    if code == "dhl":
        return _digits(rng, 10)
    if code == "fedex":
        return _digits(rng, 12)
    if code == "colis_prive":
        return "CP" + _digits(rng, 10)
    if code == "relais_colis":
        return _digits(rng, 10) + "RC"
    return "LOC-" + _digits(rng, 6)


__all__ = ["BIG_SELLER_EMAIL", "BIG_SELLER_PASSWORD", "COLUMNS", "TABLE_ORDER", "Dataset", "Sizes",
           "Stats"]
