"""Static files: compressed, cacheable for ever under a URL that changes with their content."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path
from typing import Any

import brotli
from flask import Flask, url_for

from uniqu3 import create_app
from uniqu3.static_files import build
from uniqu3.templating import kept_url

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
FOREVER = "max-age=315360000, public, immutable"


def test_pages_name_each_static_file_by_its_content(client: Any) -> None:
    html = client.get("/connexion").get_data(as_text=True)
    url = re.search(r'<link rel="stylesheet" href="(/static/css/app\.([0-9a-f]{12})\.css)">', html)
    assert url, html
    source = (STATIC / "css/app.css").read_bytes()
    assert url.group(2) == hashlib.sha256(source).hexdigest()[:12]

    plain = client.get(url.group(1))
    assert plain.status_code == 200 and plain.data == source
    assert plain.headers["Cache-Control"] == FOREVER
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert plain.mimetype == "text/css"

    br = client.get(url.group(1), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == source
    gz = client.get(url.group(1), headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == source
    assert len(br.data) < len(gz.data) < len(source) / 2


def test_the_vendored_htmx_is_served_as_its_checksum_record_says(app: Flask) -> None:
    record = (STATIC / "vendor/README.md").read_text(encoding="utf-8")
    name = re.search(r"File \| `static/vendor/(htmx-[\d.]+\.min\.js)`", record)
    digest = re.search(r"SHA-256 \(hex\) \| `([0-9a-f]{64})`", record)
    assert name and digest
    data = (STATIC / "vendor" / name.group(1)).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest.group(1)
    with app.test_request_context():
        served = url_for("static", filename=f"vendor/{name.group(1)}")
    assert served == f"/static/vendor/{name.group(1)[:-3]}.{digest.group(1)[:12]}.js"
    assert app.test_client().get(served).data == data


def test_a_plain_static_address_still_answers_but_is_revalidated(client: Any) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.data == (STATIC / "css/app.css").read_bytes()
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert client.get("/static/css/app.000000000000.css").status_code == 404


def test_a_new_version_gets_a_new_name_and_the_old_one_stays(tmp_path: Path) -> None:
    source, served, staging = tmp_path / "static", tmp_path / "out/files", tmp_path / "out/staging"
    (source / "css").mkdir(parents=True)
    (source / "css/site.css").write_text("body{color:red}" * 50)
    first = build(source, served, staging)["css/site.css"]
    stamp = (served / first).stat().st_mtime_ns
    assert build(source, served, staging)["css/site.css"] == first  # started again: nothing rewritten
    assert (served / first).stat().st_mtime_ns == stamp
    written = {p.name for p in (served / "css").iterdir()}
    assert written == {Path(first).name + ext for ext in ("", ".gz", ".br")}

    (source / "css/site.css").write_text("body{color:blue}" * 50)
    second = build(source, served, staging)["css/site.css"]
    assert second != first and (served / first).exists() and (served / second).exists()
    assert list(staging.iterdir()) == []  # nothing half-written left behind


def test_the_development_profile_serves_static_files_as_they_are_edited(app_config: dict[str, Any]) -> None:
    dev = create_app(app_config, profile="development")
    with dev.test_request_context():
        assert url_for("static", filename="css/app.css") == "/static/css/app.css"
    assert dev.test_client().get("/static/css/app.css").status_code == 200


def test_kept_addresses_are_those_flask_builds_under_each_mount_point(app: Flask) -> None:
    template_url_for = app.jinja_env.globals["url_for"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("seller.orders", {}), ("auth.logout", {}), ("static", {"filename": "css/app.css"}),
        ("static", {"filename": "js/selection.js"}), ("seller.order_detail", {"reference": "UQ-2026-000001"}),
        ("seller.orders", {"statut": "toutes"}), ("seller.orders", {"_external": True}),
    ]
    for host, mount in (("localhost", ""), ("localhost", "/boutique"), ("example.test", "/boutique")):
        with app.test_request_context("/", base_url=f"https://{host}{mount}"):
            for _ in range(2):  # built, then kept
                for endpoint, values in calls:
                    expected = url_for(endpoint, **values)
                    assert template_url_for(endpoint, **values) == expected, (mount, endpoint, values)
                    assert kept_url(endpoint, **values) == expected, (mount, endpoint, values)
                    assert expected.startswith(f"https://{host}{mount}/" if values.get("_external")
                                               else f"{mount}/")
