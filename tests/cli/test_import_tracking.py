"""import-tracking: the same reading, checks and workflow as the page, applied at once, with a
report per row and exit status 1 when a row is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Actor, Workflow

Admin = Callable[..., Result]


def test_rows_are_applied_and_reported_and_again_nothing_twice(
    admin: Admin, seller: Seller, make_order: Callable[..., Order], wf: Workflow, tmp_path: Path
) -> None:
    good, waiting = make_order(), make_order()
    wf.confirm_payment(good.id, actor=Actor.seller(seller.email))
    path = tmp_path / "suivi.csv"
    path.write_bytes((
        "reference,transporteur,numero de suivi,date d'expedition\n"
        f"{good.reference},Chronopost,XY123456789FR,20/11/2026\n"
        f"{waiting.reference},Chronopost,XY123456780FR,20/11/2026\n"
    ).encode("cp1252"))
    result = admin("import-tracking", str(path), "--seller", "ATELIER@example.fr")
    assert result.exit_code == 1
    assert f"ligne 2, {good.reference} : importé, colis n° 1" in result.output
    assert (f"ligne 3, {waiting.reference} : refusée — Le paiement doit être confirmé avant "
            "d'expédier la commande.") in result.output
    assert "Import terminé : 1 importée(s), 0 déjà importée(s), 1 refusée(s)." in result.output
    assert "1 ligne(s) refusée(s)" in result.output
    shipment = db.session.query(Shipment).filter_by(order_id=good.id).one()
    assert (shipment.carrier, shipment.tracking_number) == ("chronopost", "XY123456789FR")

    again = admin("import-tracking", str(path), "--seller", seller.email)
    assert again.exit_code == 1
    assert f"ligne 2, {good.reference} : déjà importé" in again.output
    assert db.session.query(Shipment).filter_by(order_id=good.id).count() == 1
    assert db.session.query(OutboxEmail).filter_by(kind="E4", order_id=good.id).count() == 1


def test_a_clean_file_exits_0_and_bad_input_is_refused(
    admin: Admin, seller: Seller, make_order: Callable[..., Order], wf: Workflow, tmp_path: Path
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
    path = tmp_path / "suivi.csv"
    path.write_text(f"référence;transporteur;numéro de suivi\n{order.reference};DPD;09876543210987\n",
                    encoding="utf-8-sig")
    assert admin("import-tracking", str(path), "--seller", seller.email).exit_code == 0
    unknown = admin("import-tracking", str(path), "--seller", "personne@example.fr")
    assert unknown.exit_code != 0
    missing = admin("import-tracking", str(tmp_path / "absent.csv"), "--seller", seller.email)
    assert missing.exit_code == 1 and "Impossible de lire" in missing.output
    path.write_text("référence;transporteur\nUQ-1;DPD\n", encoding="utf-8")
    columns = admin("import-tracking", str(path), "--seller", seller.email)
    assert columns.exit_code == 1 and "Colonnes manquantes : numéro de suivi." in columns.output
