"""Plain values the workflow accepts: an order as the marketplace sends it, and who acts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class PickupPoint(Address):
    """A relay or pickup point the buyer chose (Mondial Relay, Relais Colis, point retrait):
    the parcel's delivery address, known by the carrier under `id`."""

    carrier: str
    id: str


@dataclass(frozen=True)
class LineInput:
    sku: str
    title: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    seller_email: str
    buyer_name: str
    buyer_email: str
    billing_address: Address
    shipping_address: Address
    currency: str
    lines: tuple[LineInput, ...]
    shipping_cents: int = 0
    buyer_phone: str | None = None  # E.164
    pickup_point: PickupPoint | None = None

    @property
    def total_cents(self) -> int:
        """What the buyer pays: the items and the shipping."""
        return sum(line.quantity * line.unit_price_cents for line in self.lines) + self.shipping_cents

    def fingerprint(self) -> str:
        """A stable hash of the content: the same order sent twice has the same one."""
        payload: dict[str, Any] = asdict(self)
        payload["seller_email"] = self.seller_email.lower()
        payload["buyer_email"] = self.buyer_email.lower()
        # Members added since orders were first recorded count only when given: an order
        # recorded before them keeps its fingerprint, and its replay is still a replay.
        for name, default in _ADDED_MEMBERS.items():
            if payload[name] == default:
                del payload[name]
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


#: OrderInput's members added after the first orders were recorded, with their defaults.
_ADDED_MEMBERS: dict[str, Any] = {"shipping_cents": 0, "buyer_phone": None, "pickup_point": None}


@dataclass(frozen=True)
class ParcelDetails:
    """How a parcel travels, as the seller gives it: carrier (with its name and tracking page
    for « Autre transporteur »), tracking number and ship date (None: today when shipping,
    unchanged when correcting)."""

    carrier: str
    tracking_number: str = ""
    shipped_on: date | None = None
    carrier_url: str = ""
    carrier_label: str = ""

    def as_changes(self) -> ParcelChanges:
        """Every member given, as the seller's correction form sends them."""
        return ParcelChanges(self.carrier, self.tracking_number, self.shipped_on, self.carrier_url,
                             self.carrier_label)


@dataclass(frozen=True)
class ParcelChanges:
    """A correction of a parcel: each member given replaces the parcel's, each one left None
    keeps it (the name and tracking page of « Autre transporteur » while the carrier stays)."""

    carrier: str | None = None
    tracking_number: str | None = None
    shipped_on: date | None = None
    carrier_url: str | None = None
    carrier_label: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who did something, as the history shows it."""

    kind: str  # seller, buyer, system, operator, api
    label: str = ""

    @classmethod
    def seller(cls, email: str) -> Actor:
        return cls("seller", email)

    @classmethod
    def buyer(cls, email: str = "") -> Actor:
        return cls("buyer", email)

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "")

    @classmethod
    def operator(cls, label: str = "") -> Actor:
        return cls("operator", label)

    @classmethod
    def api(cls, key_name: str = "") -> Actor:
        return cls("api", key_name)
