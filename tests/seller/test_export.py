"""The CSV export: French Excel format, the current filter, only the seller's orders, no formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller
from uniqu3.seller import export
from uniqu3.workflow import Actor, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]
PROOF_HEADER = ["Colis", "Reçu par", "Reçu le", "IP du client", "Navigateur du client",
                "Confirmation demandée le", "Message-ID de la demande", "Échéance", "Relance envoyée le"]
STATE = 16 + len(PROOF_HEADER)  # « État des colis »; then « Clos » and the refunds' amounts
MONEY_HEADER = ["Clos", "À rembourser en tout (€)", "Remboursé (€)", "Reste à rembourser (€)"]
NO_MONEY = ["0", "0,00", "0,00", "0,00"]


def rows(sc: SellerClient, query: str = "?statut=toutes") -> list[list[str]]:
    response = sc.get(f"/commandes/export.csv{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="commandes-')
    raw = response.data
    assert raw.startswith("\ufeff".encode())  # the BOM French Excel needs for UTF-8
    text = raw.decode("utf-8")[1:]
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_one_row_per_line_with_french_numbers_and_dates(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    table = rows(sc)
    assert table[0] == ["Référence", "Date", "Statut", "Client", "E-mail du client", "Téléphone du client",
                        "Adresse de livraison", "Point relais", "SKU", "Article", "Quantité", "Expédiée",
                        "Prix unitaire (€)", "Frais de port (€)", "Total de la commande (€)", "Suivi",
                        *PROOF_HEADER, "État des colis", *MONEY_HEADER]
    assert table[1] == [order.reference, "20/11/2026 10:30", "Partiellement expédiée", "Camille Martin",
                        "camille@example.fr", "", "Camille Martin, 12 rue des Lilas, 69003 Lyon, France", "",
                        "BAG-RED-01", "Sac cabas rouge", "2", "2", "34,90", "0,00", "75,30",
                        "Colissimo (La Poste) 6A00000000001", "1", "", "", "", "", "", "", "", "", "Expédié",
                        *NO_MONEY]
    assert table[2][8:12] == ["CARD-01", "Carte brodée", "1", "0"]
    assert table[2][16:] == [""] * (len(PROOF_HEADER) + 1) + NO_MONEY  # in no parcel yet
    assert len(table) == 3


def test_the_export_follows_the_tab_and_the_search(sc: SellerClient, order_in: Make) -> None:
    paid = order_in(OrderStatus.PAID, buyer_name="Alice Durand")
    order_in(OrderStatus.PAID, buyer_name="Bruno Petit")
    order_in(OrderStatus.CANCELLED, buyer_name="Alice Durand")
    table = rows(sc, "?statut=a-expedier&q=alice")
    assert {row[0] for row in table[1:]} == {paid.reference}
    page = sc.get("/commandes?statut=a-expedier&q=alice").get_data(as_text=True)
    assert 'href="/commandes/export.csv?statut=a-expedier&amp;q=alice"' in page


def test_the_export_holds_only_my_orders(sc: SellerClient, make_order: Make,
                                         make_seller: Callable[..., Seller]) -> None:
    mine = make_order()
    make_order(make_seller("autre@example.fr"), buyer_name="Pas à moi")
    table = rows(sc)
    assert {row[0] for row in table[1:]} == {mine.reference}
    assert all("Pas à moi" not in row for row in table)


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://evil.example\",\"clic\")", "+33 6 12 34 56 78",
                                  "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_cells_that_look_like_formulas_are_defused(sc: SellerClient, make_order: Make, evil: str) -> None:
    make_order(buyer_name=evil)
    table = rows(sc)
    assert table[1][3] == "'" + evil
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row)


def test_safe_cell_leaves_ordinary_text_alone() -> None:
    assert export.safe_cell("Camille Martin") == "Camille Martin"
    assert export.safe_cell("") == ""
    assert export.safe_cell(12) == "12"
    assert export.safe_cell("a=b") == "a=b"


def test_a_long_export_is_streamed_in_batches_without_losing_rows(
    sc: SellerClient, make_order: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 3)  # several batches from a handful of orders
    made = [make_order().reference for _ in range(8)]
    table = rows(sc)
    references = [row[0] for row in table[1:]]
    assert len(references) == 16  # two lines each
    assert list(dict.fromkeys(references)) == list(reversed(made))


def test_an_empty_export_has_its_header(sc: SellerClient) -> None:
    assert len(rows(sc)) == 1


def test_the_export_needs_a_login(client: object) -> None:
    response = client.get("/commandes/export.csv")  # type: ignore[attr-defined]
    assert response.status_code == 302


def test_each_line_carries_the_proof_of_receipt_of_its_parcels(
    sc: SellerClient, order_in: Make, wf: Workflow, clock: Clock
) -> None:
    order = order_in(OrderStatus.SHIPPED)
    first, second = order.shipments
    seller = Actor.seller("atelier@example.fr")
    wf.request_receipt(first.id, actor=seller)
    wf.request_receipt(second.id, actor=seller)
    clock.advance(hours=5, seconds=9)
    wf.confirm_receipt(first.id, ip="203.0.113.7", user_agent="Firefox/133.0")
    clock.advance(days=7)
    wf.auto_receive_due()
    sc.stay_active()
    e5 = {row.shipment_id: row.message_id for row in db.session.query(OutboxEmail).filter_by(kind="E5")}
    assert all(e5.values())
    table = rows(sc)
    proof = {row[8]: dict(zip(PROOF_HEADER, row[16:STATE], strict=True)) for row in table[1:]}
    assert proof["BAG-RED-01"] == {
        "Colis": "1", "Reçu par": "client", "Reçu le": "20/11/2026 15:30:09", "IP du client": "203.0.113.7",
        "Navigateur du client": "Firefox/133.0", "Confirmation demandée le": "20/11/2026 10:30:00",
        "Message-ID de la demande": e5[first.id], "Échéance": "27/11/2026 10:30:00",
        "Relance envoyée le": "",
    }
    assert proof["CARD-01"] == {
        "Colis": "2", "Reçu par": "automatique", "Reçu le": "27/11/2026 15:30:09", "IP du client": "",
        "Navigateur du client": "", "Confirmation demandée le": "20/11/2026 10:30:00",
        "Message-ID de la demande": e5[second.id], "Échéance": "27/11/2026 10:30:00",
        "Relance envoyée le": "",
    }


def test_a_line_in_two_parcels_lists_both(sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = order_in(OrderStatus.PAID)
    bag = next(line for line in order.lines if line.sku == "BAG-RED-01")
    seller = Actor.seller("atelier@example.fr")
    one = wf.ship(order.id, actor=seller, quantities={bag.id: 1}, carrier="colissimo",
                  tracking_number="6A11111111111").shipment
    wf.ship(order.id, actor=seller, quantities={bag.id: 1}, carrier="colissimo",
            tracking_number="6A22222222222")
    assert one is not None
    wf.request_receipt(one.id, actor=seller)
    wf.confirm_receipt(one.id, ip="203.0.113.7", user_agent="Firefox")
    table = rows(sc)
    bag_row = next(row for row in table[1:] if row[8] == "BAG-RED-01")
    cells = dict(zip(PROOF_HEADER, bag_row[16:STATE], strict=True))
    assert cells["Colis"] == "1 | 2"
    assert bag_row[STATE] == "Reçu | Expédié"  # « État des colis », parcel by parcel
    assert cells["Reçu par"] == "client | "
    assert cells["IP du client"] == "203.0.113.7 | "
