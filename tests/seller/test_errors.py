"""Friendly error pages instead of bare server ones."""

from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import HTMX, SellerClient


def test_an_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/nulle-part")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Page introuvable</h1>" in html
    assert '<link rel="stylesheet"' in html
    assert "Retour aux commandes" not in html  # a buyer may land here: no seller link


def test_a_seller_gets_a_way_back(sc: SellerClient) -> None:
    html = sc.get("/nulle-part").get_data(as_text=True)
    assert "Retour aux commandes" in html


def test_a_wrong_method_is_explained(sc: SellerClient) -> None:
    response = sc.client.put("/commandes")
    assert response.status_code == 405
    assert "Action impossible" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_htmx_errors_land_in_the_alert_area(sc: SellerClient) -> None:
    response = sc.get("/commandes/UQ-2026-424242/expedition", htmx=True)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alerts"
    assert response.headers["HX-Reswap"] == "innerHTML"
    body = response.get_data(as_text=True)
    assert body.startswith('<p class="flash flash-error"><strong>Page introuvable.</strong>')


def test_api_paths_keep_their_own_errors(client: FlaskClient) -> None:
    response = client.get("/api/v1/nope", headers=HTMX)
    assert response.status_code == 404
    assert "Page introuvable" not in response.get_data(as_text=True)


def test_a_post_after_the_session_expired_leads_to_the_login(client: FlaskClient) -> None:
    """The cookie (and its CSRF token) is gone: say « log in again », not « bad token »."""
    response = client.post("/commandes/UQ-2026-000001/paiement", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/connexion")
    plain = client.post("/commandes/UQ-2026-000001/paiement")
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("/connexion")
