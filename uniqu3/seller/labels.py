"""Translatable labels for statuses and carriers (French msgids); shared with the other pages."""

from __future__ import annotations

from ..labels import CARRIER_NAMES, SHIPMENT_LABELS, STATUS_LABELS, carrier_name, shown_carrier

__all__ = ["CARRIER_NAMES", "SHIPMENT_LABELS", "STATUS_LABELS", "carrier_name", "shown_carrier"]
