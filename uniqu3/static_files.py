"""Static files served by WhiteNoise: compressed ahead of time, under URLs that name their content.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<12 hex>.css`, the first
12 hex digits of the file's SHA-256: a new version is a new URL, so browsers may keep each
one for ever (`Cache-Control: max-age=315360000, public, immutable`). The fingerprinted
copies and their gzip and Brotli versions are written once, at the first start of a version,
into STATIC_BUILD_FOLDER (instance/static); WhiteNoise then serves whichever the browser
accepts, without Flask. Plain `/static/css/app.css` still works (Flask serves it, revalidated
on every use) for anything that kept an old address.

A name holds its content, so a file once written is never written again, and each one is
moved into place complete (os.replace), the compressed versions first: web workers starting
side by side share the folder safely. Versions of earlier deployments stay, so a page an
old worker rendered during a rolling restart still finds its stylesheet.

Not in the development profile: a stylesheet edited under `dev.py run` shows at the next
reload, as Flask serves static/ directly there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any
from wsgiref.headers import Headers

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

DIGEST_LENGTH = 12


def fingerprinted(relative: str, data: bytes) -> str:
    """'css/app.css' -> 'css/app.3f2a9c1b7d4e.css' (the digest before the extension)."""
    path = PurePosixPath(relative)
    digest = hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build(source: Path, served: Path, staging: Path) -> dict[str, str]:
    """Write what is missing in `served`; return {'css/app.css': 'css/app.<digest>.css', …}."""
    compressor = Compressor(quiet=True)
    manifest: dict[str, str] = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        data = path.read_bytes()
        name = fingerprinted(path.relative_to(source).as_posix(), data)
        manifest[path.relative_to(source).as_posix()] = name
        destination = served / name
        if not destination.exists():
            _write(destination, data, compressor, staging)
    return manifest


def _write(destination: Path, data: bytes, compressor: Compressor, staging: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as tmp:
        staged = Path(tmp) / destination.name
        staged.write_bytes(data)
        variants = compressor.compress(str(staged)) if compressor.should_compress(staged.name) else []
        for variant in variants:
            os.replace(variant, destination.parent / Path(variant).name)
        os.replace(staged, destination)  # last: once it is there, its compressed versions are too


def _nosniff(headers: Headers, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    if not app.config.get("STATIC_FINGERPRINT") or app.static_folder is None:
        return
    folder = Path(app.config["STATIC_BUILD_FOLDER"])
    served = folder / "files"
    manifest = build(Path(app.static_folder), served, folder / "staging")
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]  # middleware, as Flask documents
        app.wsgi_app, root=served, prefix=app.static_url_path,
        immutable_file_test=lambda _path, _url: True,  # every name it serves holds a digest
        allow_all_origins=False, add_headers_function=_nosniff)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def _fingerprinted_url(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and (name := manifest.get(values.get("filename", ""))):
            values["filename"] = name
