"""The orders tab and the order page cost a fixed number of SQL queries, however much they show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.workflow import Actor, LineInput, Workflow

from .conftest import SellerClient, rendered_lists_of

Make = Callable[..., Order]


def queries_for(sc: SellerClient, count_queries: Callable[[], Any], url: str, **kwargs: Any) -> int:
    sc.get(url, **kwargs)  # warm up: CSRF token, caches
    # What a page costs when it has to be rendered (orders changed since the last view).
    rendered_lists_of(sc.client.application).clear()
    with count_queries() as counter:
        response = sc.get(url, **kwargs)
    assert response.status_code == 200
    return counter.count


def test_the_orders_tab_runs_the_same_queries_for_2_or_25_rows(
    sc: SellerClient, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    for status in (OrderStatus.PAID, OrderStatus.SHIPPED):
        order_in(status)
    small = {url: queries_for(sc, count_queries, url) for url in
             ("/commandes", "/commandes?statut=a-expedier", "/commandes?q=camille")}
    for n in range(23):
        order_in(OrderStatus.PAID if n % 2 else OrderStatus.PARTIALLY_SHIPPED)
    for url, count in small.items():
        assert queries_for(sc, count_queries, url) == count, url
        assert queries_for(sc, count_queries, url, htmx=True) <= count, url
    # The seller, then the page of orders with the tabs' counts (one query).
    assert small["/commandes"] == 2


def test_the_orders_tab_reads_without_a_transaction_and_actions_write_in_one(
    sc: SellerClient, order_in: Make, app: Any
) -> None:
    """The list's reads need no BEGIN and ROLLBACK around them (round trips to a server);
    an action's statements stay in one transaction. SQLite's driver opens none for a
    SELECT by itself: there the connection is left as it is (switching it costs more)."""
    order = order_in(OrderStatus.AWAITING_PAYMENT)
    seen: list[tuple[str | None, bool]] = []  # isolation level, inside a transaction after it

    def note(conn: Any, *args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        open_transaction = (dbapi.in_transaction if sqlite else
                            dbapi.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
        seen.append((conn.get_execution_options().get("isolation_level"), open_transaction))

    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    if not sqlite:
        import psycopg
    event.listen(engine, "after_cursor_execute", note)
    try:
        rendered_lists_of(app).clear()
        assert sc.get("/commandes").status_code == 200
        assert seen and not any(in_transaction for _, in_transaction in seen)
        if not sqlite:
            assert {level for level, _ in seen} == {"AUTOCOMMIT"}
        seen.clear()
        sc.post(f"/commandes/{order.reference}/paiement", {"note": ""})
        assert seen and "AUTOCOMMIT" not in {level for level, _ in seen}
        assert any(in_transaction for _, in_transaction in seen)
    finally:
        event.remove(engine, "after_cursor_execute", note)


def test_the_order_page_runs_the_same_queries_for_a_small_or_a_big_order(
    sc: SellerClient, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    small = order_in(OrderStatus.RECEIVED)  # 2 lines, 2 parcels received by the buyer
    small_count = queries_for(sc, count_queries, f"/commandes/{small.reference}")
    lines = tuple(LineInput(f"SKU-{n}", f"Article {n}", 3, 990) for n in range(10))
    big = wf.place_order(order_input(seller.email, "MKT-BIG", lines=lines), actor=Actor.api()).order
    me = Actor.seller(seller.email)
    wf.confirm_payment(big.id, actor=me)
    for n, line in enumerate(sorted(big.lines, key=lambda item: item.position)[:5]):
        wf.ship(big.id, actor=me, quantities={line.id: 1}, carrier="dpd",
                tracking_number=f"0987654321{n:04d}")
    for shipment in big.shipments[:3]:
        wf.request_receipt(shipment.id, actor=me)
        wf.confirm_receipt(shipment.id)
    assert queries_for(sc, count_queries, f"/commandes/{big.reference}") == small_count
    # The seller, the order, its lines, its parcels, their lines, their problem reports, its
    # history, its refunds, the e-mails of the parcels' proofs of receipt.
    assert small_count == 9
    # Its one parcel still shipped (never asked to confirm nor reported): no proofs to read.
    partial = order_in(OrderStatus.PARTIALLY_SHIPPED)
    assert queries_for(sc, count_queries, f"/commandes/{partial.reference}") == 8
    assert queries_for(sc, count_queries, f"/commandes/{order_in(OrderStatus.PAID).reference}") == 6


def test_the_proof_page_runs_the_same_queries_for_a_small_or_a_big_order(
    sc: SellerClient, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    small = order_in(OrderStatus.RECEIVED)
    big = _big_order(wf, seller, "MKT-P01")  # 10 lines, 5 parcels, 3 received
    small_count = queries_for(sc, count_queries, f"/commandes/{small.reference}/colis/1/preuve")
    assert queries_for(sc, count_queries, f"/commandes/{big.reference}/colis/3/preuve") == small_count
    # The seller, the order, its lines, its parcels, their lines and problem reports, its
    # history, the e-mails.
    assert small_count == 8


def _big_order(wf: Workflow, seller: Seller, external_id: str) -> Order:
    """10 lines, 5 parcels (3 received): every list the pages show has several rows."""
    lines = tuple(LineInput(f"SKU-{n}", f"Article {n}", 3, 990) for n in range(10))
    big = wf.place_order(order_input(seller.email, external_id, lines=lines), actor=Actor.api()).order
    me = Actor.seller(seller.email)
    wf.confirm_payment(big.id, actor=me)
    for n, line in enumerate(sorted(big.lines, key=lambda item: item.position)[:5]):
        wf.ship(big.id, actor=me, quantities={line.id: 1}, carrier="dpd",
                tracking_number=f"0987654{external_id[-3:]}{n:04d}")
    for shipment in big.shipments[:3]:
        wf.request_receipt(shipment.id, actor=me)
        wf.confirm_receipt(shipment.id)
    return big


def count_plain(client: Any, count_queries: Callable[[], Any], url: str, **kwargs: Any) -> int:
    client.get(url, **kwargs)
    with count_queries() as counter:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return counter.count


def test_the_buyer_page_runs_the_same_queries_for_a_small_or_a_big_order(
    app: Any, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    from uniqu3.tokens import order_token

    client = app.test_client()
    small = order_in(OrderStatus.PARTIALLY_SHIPPED)
    big = _big_order(wf, seller, "MKT-B01")
    with app.app_context():
        small_url, big_url = f"/o/{order_token(small.id)}", f"/o/{order_token(big.id)}"
    small_count = count_plain(client, count_queries, small_url)
    assert count_plain(client, count_queries, big_url) == small_count
    # The order with its seller, its lines, its parcels, their lines and problem reports, its history,
    # its refunds.
    assert small_count <= 7


def test_the_csv_export_runs_the_same_queries_for_2_or_40_orders(
    sc: SellerClient, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    order_in(OrderStatus.PAID)
    _big_order(wf, seller, "MKT-E01")
    small = queries_for(sc, count_queries, "/commandes/export.csv")
    for n in range(20):
        order_in(OrderStatus.SHIPPED if n % 2 else OrderStatus.PAID)
    for n in range(3):
        _big_order(wf, seller, f"MKT-E1{n}")
    assert queries_for(sc, count_queries, "/commandes/export.csv") == small
    assert queries_for(sc, count_queries, "/commandes/export.csv?q=camille") <= small + 1


def test_the_api_get_runs_the_same_queries_for_a_small_or_a_big_order(
    app: Any, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    from uniqu3 import apikeys
    from uniqu3.extensions import db
    from uniqu3.timeutil import utcnow

    with app.app_context():
        _, key = apikeys.create_key(db.session, name="shop", seller=None, now=utcnow())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    small = order_in(OrderStatus.RECEIVED)  # 2 lines, 2 parcels received: their proofs are read
    big = _big_order(wf, seller, "MKT-A01")

    def count(order: Order) -> int:
        return count_plain(client, count_queries, f"/api/v1/orders/{order.reference}", headers=headers)

    assert count(big) == count(small)
    # Parcels all still shipped (never asked to confirm nor reported): no proofs to read.
    assert count(order_in(OrderStatus.PARTIALLY_SHIPPED)) == count(small) - 1


def test_the_api_list_runs_the_same_queries_for_2_or_25_orders(
    app: Any, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    from uniqu3 import apikeys
    from uniqu3.extensions import db
    from uniqu3.timeutil import utcnow

    with app.app_context():
        _, key = apikeys.create_key(db.session, name="shop", seller=seller, now=utcnow())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    order_in(OrderStatus.PAID)
    order_in(OrderStatus.RECEIVED)
    small = count_plain(client, count_queries, "/api/v1/orders", headers=headers)
    for n in range(20):
        order_in(OrderStatus.SHIPPED if n % 2 else OrderStatus.PARTIALLY_SHIPPED)
    for n in range(3):
        _big_order(wf, seller, f"MKT-L0{n}")
    assert count_plain(client, count_queries, "/api/v1/orders", headers=headers) == small
    # The key, the page of orders with their sellers, their lines, their parcels, the parcels'
    # lines and problem reports, their refunds, the e-mails of the proofs of receipt.
    assert small == 8
