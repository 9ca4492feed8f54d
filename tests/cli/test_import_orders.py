"""import-orders: the API's bodies from a file or stdin, through the same checks and workflow."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from sqlalchemy import func, select

from tests.api.conftest import order_body
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller

Admin = Callable[..., Result]


def write(tmp_path: Path, content: Any, name: str = "orders.json") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return str(path)


def orders() -> list[Order]:
    return list(db.session.scalars(select(Order).order_by(Order.id)))


def test_good_orders_are_created_and_a_bad_one_is_reported_with_its_reasons(
    admin: Admin, seller: Seller, tmp_path: Path
) -> None:
    bad = order_body(external_id="MKT-2", currency="USD")
    bad["lines"][0]["quantity"] = 0
    bodies = [order_body(external_id="MKT-1"), bad, order_body(external_id="MKT-3")]

    result = admin("import-orders", write(tmp_path, bodies))

    assert result.exit_code == 1
    assert [o.external_id for o in orders()] == ["MKT-1", "MKT-3"]
    out = result.output
    assert "#1 MKT-1 : créée → UQ-2026-000001" in out
    assert "#2 MKT-2 : invalide" in out
    assert "lines[0].quantity : La quantité va de 1 à 9999." in out
    assert "currency : Devise non acceptée : USD" in out
    assert "#3 MKT-3 : créée → UQ-2026-000002" in out
    assert "2 créée(s), 0 déjà enregistrée(s), 1 refusée(s)" in out
    assert "Traceback" not in out
    # Each created order told its seller and its buyer, like an API order.
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 4
    event = db.session.scalar(select(OrderEvent).limit(1))
    assert event is not None and (event.actor, event.details["source"]) == ("operator", "import")


def test_importing_again_creates_nothing_twice(admin: Admin, seller: Seller, tmp_path: Path) -> None:
    path = write(tmp_path, [order_body(external_id="MKT-1"), order_body(external_id="MKT-2")])
    assert admin("import-orders", path).exit_code == 0

    result = admin("import-orders", path)

    assert result.exit_code == 0, result.output
    assert "#1 MKT-1 : déjà enregistrée (UQ-2026-000001)" in result.output
    assert "0 créée(s), 2 déjà enregistrée(s), 0 refusée(s)" in result.output
    assert len(orders()) == 2
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 4


def test_same_external_id_with_another_content_is_refused(admin: Admin, seller: Seller,
                                                          tmp_path: Path) -> None:
    admin("import-orders", write(tmp_path, [order_body()]))
    changed = order_body()
    changed["lines"][0]["quantity"] = 5

    result = admin("import-orders", write(tmp_path, [changed], "changed.json"))

    assert result.exit_code == 1
    assert "refusée" in result.output and "contenu différent" in result.output
    [order] = orders()
    db.session.refresh(order)
    assert order.lines[0].quantity == 2


def test_orders_are_read_from_stdin(admin: Admin, seller: Seller) -> None:
    result = admin("import-orders", "-", input=json.dumps([order_body()]))
    assert result.exit_code == 0, result.output
    assert len(orders()) == 1


def test_an_unknown_seller_is_a_reason_not_a_crash(admin: Admin, seller: Seller, tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, [order_body(seller="personne@example.fr")]))
    assert result.exit_code == 1
    assert "seller : Vendeur inconnu ou inactif." in result.output
    assert orders() == []


def test_an_entry_that_is_not_an_object_is_invalid(admin: Admin, seller: Seller, tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, ["MKT-1", order_body()]))
    assert result.exit_code == 1
    assert "#1 : invalide — Une commande est un objet JSON." in result.output
    assert "#2 MKT-1001 : créée" in result.output


def test_a_file_that_is_not_json_is_refused(admin: Admin, seller: Seller, tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, '[{"external_id": "MKT-1",'))
    assert result.exit_code == 1
    assert "n'est pas du JSON valide (ligne 1" in result.output
    assert "Traceback" not in result.output
    assert orders() == []


def test_a_file_that_is_not_text_is_refused(admin: Admin, tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, b"\xff\xfe\x00["))
    assert result.exit_code == 1
    assert "UTF-8" in result.output


def test_a_json_object_instead_of_an_array_is_refused(admin: Admin, seller: Seller,
                                                      tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, order_body()))
    assert result.exit_code == 1
    assert "tableau JSON" in result.output
    assert orders() == []


def test_a_missing_file_is_refused(admin: Admin, tmp_path: Path) -> None:
    result = admin("import-orders", str(tmp_path / "absent.json"))
    assert result.exit_code == 1
    assert "Impossible de lire" in result.output


def test_an_empty_array_is_nothing_to_do(admin: Admin, tmp_path: Path) -> None:
    result = admin("import-orders", write(tmp_path, []))
    assert result.exit_code == 0
    assert "Aucune commande" in result.output


def test_a_utf8_file_with_bom_is_read(admin: Admin, seller: Seller, tmp_path: Path) -> None:
    raw = "\ufeff" + json.dumps([order_body()], ensure_ascii=False)
    result = admin("import-orders", write(tmp_path, raw.encode("utf-8")))
    assert result.exit_code == 0, result.output


def test_an_address_the_mailer_cannot_use_is_reported_and_nothing_recorded(
    admin: Admin, seller: Seller, tmp_path: Path
) -> None:
    bad = order_body(external_id="MKT-1")
    bad["buyer"]["email"] = "camille..martin@example.fr"

    result = admin("import-orders", write(tmp_path, [bad]))

    assert result.exit_code == 1
    assert "#1 MKT-1 : invalide" in result.output
    assert "buyer.email : Adresse e-mail invalide." in result.output
    assert orders() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_shipping_phone_and_pickup_point_are_imported_like_the_api_takes_them(
    admin: Admin, seller: Seller, tmp_path: Path
) -> None:
    point = {"carrier": "Relais Colis", "id": "RC-4521", "name": "Épicerie du Parc",
             "line1": "8 rue du Parc", "postal_code": "33000", "city": "Bordeaux", "country": "FR"}
    good = order_body(external_id="MKT-1", shipping_price="5.50", pickup_point=point)
    good["buyer"]["phone"] = "06 12 34 56 78"
    result = admin("import-orders", write(tmp_path, [good]))
    assert result.exit_code == 0, result.output
    [order] = orders()
    assert (order.shipping_cents, order.total_cents, order.buyer_phone) == (550, 7530, "+33612345678")
    assert order.pickup_point == {**point, "line2": ""}


def test_bad_shipping_phone_and_pickup_point_are_refused_with_their_paths(
    admin: Admin, seller: Seller, tmp_path: Path
) -> None:
    bad = order_body(external_id="MKT-2", shipping_price="5,50",
                     pickup_point={"carrier": "Relais Colis", "name": "Épicerie du Parc"})
    bad["buyer"]["phone"] = "12 34"
    result = admin("import-orders", write(tmp_path, [bad]))
    assert result.exit_code == 1
    assert "shipping_price : Prix invalide" in result.output
    assert "buyer.phone : Numéro de téléphone invalide" in result.output
    assert "pickup_point.id : Champ obligatoire." in result.output
    assert "pickup_point.postal_code : Champ obligatoire." in result.output
    assert orders() == []
