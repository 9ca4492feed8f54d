"""Webhooks (Standard Webhooks 1.0): the marketplace is told of each event of an order.

- `events`: the event types, and `record()`, which the workflow calls in its transaction;
- `endpoints`: registering and deleting the URLs (the operators' `flask admin` commands);
- `addresses`: which URLs and addresses may be called (https only and no private address
  in production);
- `sending`: one signed POST, with a timeout, to the address that was checked;
- `delivery`: the outbox of deliveries, tried in order with a growing backoff.
"""
