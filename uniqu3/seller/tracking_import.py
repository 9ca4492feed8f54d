"""« Importer des numéros de suivi »: upload a CSV, see every row's problems, then apply.

uniqu3.workflow.tracking_import reads, checks and ships. The file is kept on the server
between the preview and the apply, named by its seller and its SHA-256: the apply form
carries only the hash, and the rows are read and checked again from the kept file, as the
orders are then. A kept file stays a day (the apply posted twice finds it, and ships nothing
twice), then goes.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import render_error
from ..extensions import db
from ..services import clock, workflow
from ..workflow import Actor, WorkflowError
from ..workflow import tracking_import as imports
from .blueprint import bp

#: Room for the form's other fields and the multipart framing around the file.
_FORM_OVERHEAD = 64 * 1024
_KEPT_SECONDS = 24 * 3600
_HASH = re.compile(r"[0-9a-f]{64}")


def _folder() -> Path:
    configured = current_app.config.get("TRACKING_IMPORT_FOLDER")
    folder = Path(configured or os.path.join(current_app.instance_path, "imports"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _kept(digest: str) -> Path:
    return _folder() / f"{current_user.id}-{digest}.csv"


def _forget_old_files() -> None:
    limit = time.time() - _KEPT_SECONDS
    for path in _folder().glob("*.csv"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue  # removed meanwhile by another request


def _page(status: int = 200, **context: object) -> Response:
    body = render_template("seller/tracking_import.html", State=imports.State,
                           max_mb=imports.MAX_BYTES // (1024 * 1024), max_rows=imports.MAX_ROWS, **context)
    return Response(body, status)


def _reasons(report: imports.Report) -> dict[int, list[str]]:
    """Each row's problems in the reader's language, by line."""
    return {r.row.line: [p.translated(_) for p in r.problems] for r in report.rows if r.problems}


@bp.get("/commandes/import-suivi")
def tracking_import_form() -> Response:
    return _page()


@bp.get("/commandes/import-suivi/modele.csv")
def tracking_import_template() -> Response:
    response = Response(imports.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="modele-numeros-de-suivi.csv"'
    return response


def _allow_the_file() -> None:
    """The upload may be larger than other requests (MAX_CONTENT_LENGTH): set before anything
    reads the form (the NUL check, the CSRF check)."""
    if request.endpoint == "seller.tracking_import_preview":
        request.max_content_length = imports.MAX_BYTES + _FORM_OVERHEAD


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_the_file)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Response:
    if request.endpoint != "seller.tracking_import_preview":
        return render_error(413)
    return _page(413, error=imports.too_large().translated(_))


@bp.post("/commandes/import-suivi")
def tracking_import_preview() -> Response:
    upload = request.files.get("fichier")
    if upload is None or not upload.filename:
        return _page(422, error=_("Choisissez le fichier CSV à importer."))
    data = upload.read(imports.MAX_BYTES + 1)
    try:
        rows = imports.read_file(data)
    except WorkflowError as refused:
        return _page(422, error=refused.translated(_))
    digest = hashlib.sha256(data).hexdigest()
    _forget_old_files()
    _kept(digest).write_bytes(data)
    report, _parcels = imports.check(db.session(), current_user.id, rows, now=clock())
    db.session.rollback()
    return _page(report=report, reasons=_reasons(report), digest=digest, filename=upload.filename[:200])


@bp.post("/commandes/import-suivi/appliquer")
def tracking_import_apply() -> Response:
    digest = request.form.get("fichier", "")
    path = _kept(digest) if _HASH.fullmatch(digest) else None
    if path is None or not path.exists():
        return _page(410, error=_("Ce fichier n'est plus disponible : déposez-le à nouveau."))
    try:
        rows = imports.read_file(path.read_bytes())
    except WorkflowError as refused:
        return _page(422, error=refused.translated(_))
    report = imports.apply(workflow(), current_user.id, rows, actor=Actor.seller(current_user.email))
    return _page(report=report, reasons=_reasons(report), applied=True)
