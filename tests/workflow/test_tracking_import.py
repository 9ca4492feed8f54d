"""Tracking numbers from a CSV: reading the files label software writes, every row's problems,
applying through the workflow, and the same file twice shipping nothing twice."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Actor, InvalidInput, Workflow
from uniqu3.workflow import tracking_import as imports

SELLER = Actor.seller("atelier@example.fr")
Make = Callable[..., Order]


@pytest.fixture
def paid(make_order: Make, wf: Workflow) -> Callable[..., Order]:
    def make(**overrides: object) -> Order:
        order = make_order(**overrides)
        wf.confirm_payment(order.id, actor=SELLER)
        return order

    return make


HEADER = "référence;transporteur;numéro de suivi;date d'expédition;sku;quantité"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def problems(report: imports.Report) -> dict[int, list[str]]:
    return {r.row.line: [p.message for p in r.problems] for r in report.rows if r.problems}


def states(report: imports.Report) -> list[str]:
    return [str(r.state) for r in report.rows]


def parcels(order: Order) -> list[Shipment]:
    return list(db.session.query(Shipment).filter_by(order_id=order.id).order_by(Shipment.number))


# ----------------------------------------------------------------------------- reading
@pytest.mark.parametrize(("encoding", "delimiter", "header"), [
    ("utf-8", ";", "Référence;Transporteur;Numéro de suivi;Date d'expédition"),
    ("utf-8-sig", ",", "REFERENCE,TRANSPORTEUR,NUMERO DE SUIVI,DATE D'EXPEDITION"),
    ("cp1252", ";", "N° de commande;Transporteur;N° de suivi;Date d'envoi"),
    ("utf-8", "\t", "reference\tcarrier\ttracking number\tship date"),
])
def test_files_as_label_software_writes_them(encoding: str, delimiter: str, header: str) -> None:
    cells = ["UQ-2026-000001", "Colissimo", "6A 1234 5678 901", "20/11/2026"]
    text = f"{header}\r\n{delimiter.join(cells)}\r\n"
    rows = imports.read_file(text.encode(encoding))
    assert rows == [imports.Row(2, "UQ-2026-000001", "Colissimo", "6A 1234 5678 901", "20/11/2026")]


def test_a_quoted_cell_and_blank_lines_keep_the_line_numbers() -> None:
    rows = imports.read_file(csv('"UQ-1";"Colis\nsimo";"X"', "", "UQ-2;Chronopost;Y"))
    assert [(r.line, r.reference) for r in rows] == [(2, "UQ-1"), (5, "UQ-2")]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Le fichier est vide."),
    (b"reference;transporteur\nUQ-1;Colissimo\n", "Colonnes manquantes : numéro de suivi."),
    (b"reference;transporteur;suivi\n", "Le fichier n'a aucune ligne après celle des colonnes."),
    (b"\x81\x8d\x8f\x90\x9d;x", "Le fichier n'est ni en UTF-8 ni en Windows-1252"),
    (b"r" * (imports.MAX_BYTES + 1), "Le fichier dépasse 5 Mo"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        imports.read_file(data)
    assert refused.value.message.startswith(message)


def test_over_5000_rows_is_refused() -> None:
    assert len(imports.read_file(csv(*["UQ-1;Colissimo;X"] * imports.MAX_ROWS))) == imports.MAX_ROWS
    with pytest.raises(InvalidInput, match="plus de 5000 lignes"):
        imports.read_file(csv(*["UQ-1;Colissimo;X"] * (imports.MAX_ROWS + 1)))


def test_the_template_reads_as_a_file() -> None:
    (row,) = imports.read_file(imports.template_csv())
    assert (row.reference, row.carrier, row.tracking) == ("UQ-2026-000123", "Colissimo", "6A12345678901")


# ----------------------------------------------------------------------------- applying
def test_a_row_ships_everything_left_and_the_same_file_again_ships_nothing(
    wf: Workflow, seller: Seller, paid: Callable[..., Order]
) -> None:
    order = paid()
    data = csv(f"{order.reference};Colissimo;6A12345678901;20/11/2026;;")
    report = imports.apply(wf, seller.id, imports.read_file(data), actor=SELLER)
    assert states(report) == ["done"] and report.rows[0].parcel_number == 1
    (parcel,) = parcels(order)
    assert (parcel.carrier, parcel.tracking_number, parcel.shipped_on.isoformat()) == (
        "colissimo", "6A12345678901", "2026-11-20")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED  # type: ignore[union-attr]
    assert db.session.query(OutboxEmail).filter_by(kind="E4", order_id=order.id).count() == 1
    again = imports.apply(wf, seller.id, imports.read_file(data), actor=SELLER)
    assert states(again) == ["already"] and again.rows[0].parcel_number == 1
    assert len(parcels(order)) == 1
    assert db.session.query(OutboxEmail).filter_by(kind="E4", order_id=order.id).count() == 1


def test_rows_with_skus_make_one_parcel_and_quantities_count_across_the_file(
    wf: Workflow, seller: Seller, paid: Callable[..., Order]
) -> None:
    order = paid()
    data = csv(f"{order.reference};Mondial Relay;12345678;;BAG-RED-01;1",
               f"{order.reference};Mondial Relay;12345678;;CARD-01;",
               f"{order.reference};chronopost;XY123456789FR;;BAG-RED-01;2")
    report = imports.apply(wf, seller.id, imports.read_file(data), actor=SELLER)
    assert states(report) == ["done", "done", "refused"]
    assert problems(report) == {4: ["Il reste 1 article à expédier pour cette ligne."]}
    (parcel,) = parcels(order)
    assert sorted((item.order_line_id, item.quantity) for item in parcel.lines) == sorted(
        (line.id, 1) for line in order.lines)


def test_every_rows_problems_are_shown_and_the_good_rows_still_ship(
    wf: Workflow, seller: Seller, paid: Callable[..., Order], make_order: Make,
    make_seller: Callable[..., Seller], clock: Clock
) -> None:
    good, waiting = paid(), make_order()
    cancelled = make_order()
    wf.cancel(cancelled.id, actor=SELLER)
    theirs = make_order(make_seller("autre@example.fr"))
    data = csv(
        f"{good.reference};Colissimo;6A12345678901;20/11/2026",  # 2: ok
        "UQ-2026-999999;Colissimo;6A12345678902",  # 3: unknown
        f"{theirs.reference};Colissimo;6A12345678903",  # 4: another seller's: unknown too
        f"{waiting.reference};Colissimo;6A12345678904",  # 5: not paid
        f"{cancelled.reference};Colissimo;6A12345678905",  # 6: cancelled
        f"{good.reference};Pigeon voyageur;6A12345678906",  # 7: unknown carrier
        f"{good.reference};Mondial Relay;ABC",  # 8: not a Mondial Relay number
        f"{good.reference};Colissimo;6A12345678907;21/11/2026",  # 9: in the future
        f"{good.reference};Colissimo;6A12345678908;le 3 mars",  # 10: not a date
        f"{good.reference};Colissimo;6A12345678909;;GHOST-1;1",  # 11: no such SKU
        f"{good.reference};Colissimo;6A12345678910;;BAG-RED-01;0",  # 12: not a quantity
        ";Colissimo;6A12345678911",  # 13: no reference
    )
    report = imports.apply(wf, seller.id, imports.read_file(data), actor=SELLER)
    assert states(report) == ["done"] + ["refused"] * 11
    found = problems(report)
    assert found[3] == ["Commande inconnue : UQ-2026-999999."]
    assert found[4] == [f"Commande inconnue : {theirs.reference}."]
    assert found[5] == ["Le paiement doit être confirmé avant d'expédier la commande."]
    assert found[6] == ["Cette commande est annulée : rien ne peut être expédié."]
    assert found[7] == ["Transporteur inconnu : « Pigeon voyageur »."]
    assert found[8] == ["Le numéro de suivi « ABC » ne ressemble pas à un numéro Mondial Relay "
                        "(8 à 12 chiffres, par ex. 12345678)."]
    assert found[9] == ["La date d'expédition ne peut pas être dans le futur."]
    assert found[10] == ["Date d'expédition illisible : « le 3 mars » (attendu : JJ/MM/AAAA)."]
    assert found[11] == ["Le SKU GHOST-1 n'est pas dans cette commande."]
    assert found[12] == ["Quantité invalide : « 0 »."]
    assert found[13] == ["La référence de la commande manque."]
    assert [p.tracking_number for p in parcels(good)] == ["6A12345678901"]
    assert parcels(waiting) == [] and parcels(cancelled) == [] and parcels(theirs) == []


def test_the_check_changes_nothing_and_apply_checks_again(
    wf: Workflow, seller: Seller, paid: Callable[..., Order], clock: Clock
) -> None:
    order = paid()
    rows = imports.read_file(csv(f"{order.reference};Colissimo;6A12345678901"))
    report, ready = imports.check(db.session, seller.id, rows, now=clock)
    assert states(report) == ["ready"] and len(ready) == 1
    db.session.rollback()
    assert parcels(order) == []
    # Meanwhile the seller shipped it all from the order page: nothing is left for the file.
    wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
            carrier="dpd", tracking_number="09876543210987")
    report = imports.apply(wf, seller.id, rows, actor=SELLER)
    assert problems(report) == {2: ["Tous les articles de cette commande sont déjà expédiés."]}
    assert len(parcels(order)) == 1


def test_a_parcel_is_whole_or_not_at_all(wf: Workflow, seller: Seller, paid: Callable[..., Order]) -> None:
    order = paid()
    report = imports.apply(wf, seller.id, imports.read_file(csv(
        f"{order.reference};Colissimo;6A12345678901;;BAG-RED-01;1",
        f"{order.reference};Colissimo;6A12345678901;;CARD-01;5",
    )), actor=SELLER)
    assert problems(report) == {
        2: ["Une autre ligne de ce colis est refusée : corrigez-la pour expédier le colis."],
        3: ["Il reste 1 article à expédier pour cette ligne."],
    }
    assert parcels(order) == []
