"""« Importer des numéros de suivi »: upload, preview with every row's problems, apply; the
file kept on the server between the two; refusals (size, CSRF, a file not kept)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Shipment
from uniqu3.workflow import Actor, Workflow
from uniqu3.workflow import tracking_import as imports

from .conftest import SellerClient

URL = "/commandes/import-suivi"
HEADER = "Référence;Transporteur;Numéro de suivi;Date d'expédition"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "TRACKING_IMPORT_FOLDER": str(tmp_path / "imports")}


@pytest.fixture
def paid(make_order: Callable[..., Order], wf: Workflow) -> Callable[[], Order]:
    def make() -> Order:
        order = make_order()
        wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
        return order

    return make


def upload(sc: SellerClient, data: bytes, name: str = "suivi.csv", **kwargs: Any) -> Any:
    return sc.post(URL, {"fichier": (io.BytesIO(data), name)}, content_type="multipart/form-data", **kwargs)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def parcels(order: Order) -> int:
    return db.session.query(Shipment).filter_by(order_id=order.id).count()


def test_the_page_is_linked_from_the_list_and_offers_the_template(sc: SellerClient, make_order: Any) -> None:
    make_order()
    assert f'<a href="{URL}">Importer des numéros de suivi</a>' in sc.get("/commandes").get_data(as_text=True)
    page = sc.get(URL).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    template = sc.get(f"{URL}/modele.csv")
    assert template.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in template.headers["Content-Disposition"]
    assert imports.read_file(template.data)[0].reference == "UQ-2026-000123"


def test_preview_then_apply_then_the_same_file_again(sc: SellerClient, paid: Callable[[], Order],
                                                     tmp_path: Path) -> None:
    good, other = paid(), paid()
    data = (f"{HEADER}\r\n{good.reference};Colissimo;6A12345678901;20/11/2026\r\n"
            f"{other.reference};Mondial Relay;ABC;20/11/2026\r\n").encode("cp1252")
    preview = upload(sc, data)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "À importer : 1 · Déjà importées : 0 · Refusées : 1" in text(html)
    assert "ne ressemble pas à un numéro Mondial Relay" in html
    assert parcels(good) == 0  # a preview ships nothing
    digest = re.search(r'name="fichier" value="([0-9a-f]{64})"', html)
    assert digest and list((tmp_path / "imports").glob(f"*-{digest.group(1)}.csv"))
    applied = sc.post(f"{URL}/appliquer", {"fichier": digest.group(1)})
    assert applied.status_code == 200
    assert "Importées : 1 · Déjà importées : 0 · Refusées : 1" in text(applied.get_data(as_text=True))
    assert "importé : colis n° 1" in applied.get_data(as_text=True)
    assert parcels(good) == 1 and parcels(other) == 0
    # The apply posted twice, and the same file uploaded again: nothing twice.
    twice = sc.post(f"{URL}/appliquer", {"fichier": digest.group(1)}).get_data(as_text=True)
    assert "Importées : 0 · Déjà importées : 1 · Refusées : 1" in text(twice)
    again = upload(sc, data).get_data(as_text=True)
    assert "À importer : 0 · Déjà importées : 1 · Refusées : 1" in text(again)
    assert "déjà importé (colis n° 1)" in again and "Aucune ligne à importer." in again
    assert parcels(good) == 1
    assert db.session.query(OutboxEmail).filter_by(kind="E4", order_id=good.id).count() == 1


def test_another_sellers_file_cannot_be_applied(sc: SellerClient, paid: Callable[[], Order],
                                                login: Any, make_seller: Any) -> None:
    order = paid()
    data = f"{HEADER}\r\n{order.reference};Colissimo;6A12345678901;\r\n".encode()
    html = upload(sc, data).get_data(as_text=True)
    digest = re.search(r'name="fichier" value="([0-9a-f]{64})"', html)
    assert digest
    other = login(make_seller("autre@example.fr"))
    refused = other.post(f"{URL}/appliquer", {"fichier": digest.group(1)})
    assert refused.status_code == 410
    assert "Ce fichier n&#39;est plus disponible" in refused.get_data(as_text=True)
    assert sc.post(f"{URL}/appliquer", {"fichier": "../../etc/passwd"}).status_code == 410
    assert parcels(order) == 0


def test_files_refused_whole(sc: SellerClient) -> None:
    missing = upload(sc, b"reference;transporteur\r\nUQ-1;Colissimo\r\n")
    assert missing.status_code == 422
    assert "Colonnes manquantes : numéro de suivi." in missing.get_data(as_text=True)
    none = sc.post(URL, {}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Choisissez le fichier CSV" in none.get_data(as_text=True)
    too_big = upload(sc, b"x" * (imports.MAX_BYTES + 70 * 1024))
    assert too_big.status_code == 413
    assert "Le fichier dépasse 5 Mo" in too_big.get_data(as_text=True)
    # Just under the whole request's limit, still over the file's.
    just_over = upload(sc, b"x" * (imports.MAX_BYTES + 1))
    assert just_over.status_code == 422 and "Le fichier dépasse 5 Mo" in just_over.get_data(as_text=True)


def test_the_upload_and_the_apply_need_the_csrf_token(sc: SellerClient, paid: Callable[[], Order]) -> None:
    order = paid()
    data = f"{HEADER}\r\n{order.reference};Colissimo;6A12345678901;\r\n".encode()
    assert upload(sc, data, csrf=False).status_code == 400
    html = upload(sc, data).get_data(as_text=True)
    digest = re.search(r'name="fichier" value="([0-9a-f]{64})"', html)
    assert digest
    assert sc.post(f"{URL}/appliquer", {"fichier": digest.group(1)}, csrf=False).status_code == 400
    assert parcels(order) == 0
