"""The CSV export: French Excel format, the current filter, only the seller's orders, no formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.seller import export

from .conftest import SellerClient

Make = Callable[..., Order]


def rows(sc: SellerClient, query: str = "") -> list[list[str]]:
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
    assert table[0] == ["Référence", "Date", "Statut", "Client", "E-mail du client", "Adresse de livraison",
                        "SKU", "Article", "Quantité", "Expédiée", "Prix unitaire (€)",
                        "Total de la commande (€)", "Suivi", "État des colis"]
    assert table[1] == [order.reference, "20/11/2026 10:30", "Partiellement expédiée", "Camille Martin",
                        "camille@example.fr", "Camille Martin, 12 rue des Lilas, 69003 Lyon, FR",
                        "BAG-RED-01", "Sac cabas rouge", "2", "2", "34,90", "75,30",
                        "Colissimo (La Poste) 6A00000000001", "n° 1 : Expédié"]
    assert table[2][6:10] == ["CARD-01", "Carte brodée", "1", "0"]
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
