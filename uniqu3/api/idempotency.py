"""`Idempotency-Key` on every POST (and PATCH): the same key with the same request answers the same
result and acts once; with another request, 409.

The key is stored with the request's fingerprint (method, path, body) before the view runs,
in its own committed row: the unique (api key, key) pair lets one request at a time own it,
so two sent together act once (the second is told the first is still being answered: 409
with `Retry-After`, as the IETF draft « The Idempotency-Key HTTP Header Field » says). The
answer (status, body, `Location`) is stored once the view has answered; a 5xx is not, so the
request can be tried again. A key is kept KEEP (24 h); the sweep removes older ones.

A row left unanswered (the process died between the action and the storing of its answer) is
taken over by a retry after LEASE: the workflow's actions are idempotent on their own (a
payment already confirmed is answered as it is; a parcel carries the key's row as its
request key, its row's token, so it is not shipped twice).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import datetime, timedelta

from flask import Response, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..database import rows_matched
from ..extensions import db
from ..models import IdempotencyKey
from ..services import now
from ..workflow.loading import AnySession
from .blueprint import state
from .body import raw_body
from .errors import ApiError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
#: The methods that take it: those that act.
METHODS = frozenset({"POST", "PATCH"})
#: Set on an answer given again from the stored one.
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
LEASE = timedelta(seconds=60)
MAX_LENGTH = 255
#: Printable ASCII, no space at either end (as the OpenAPI document states it).
KEY_PATTERN = r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?"
KEY_SHAPE = re.compile(KEY_PATTERN)
#: The headers of an answer that are stored with it (the others are the app's usual ones).
STORED_HEADERS = ("Location",)

_TABLE = IdempotencyKey.__table__
#: Every POST with a key runs these two: built once.
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_STORE_ANSWER = (update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
                 .values(status_code=bindparam("new_status"), response_body=bindparam("new_body"),
                         response_headers=bindparam("new_headers")))


def begin(api_key_id: int) -> Response | None:
    """Before an action's view (METHODS): None to run it (this request now owns its key, if it has one),
    or the stored answer of the same request; 409 for another request or one still running."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw
    if len(key) > MAX_LENGTH or not KEY_SHAPE.fullmatch(key):
        raise ApiError(400, _l("En-tête Idempotency-Key invalide : de 1 à %(max)d caractères ASCII "
                               "imprimables.", max=MAX_LENGTH))
    fingerprint = request_fingerprint(request.method, request.path, raw_body())
    session = db.session
    at = now()
    for _ in range(3):
        try:
            token = uuid.uuid4().hex
            row_id = session.scalar(_INSERT, {
                "api_key_id": api_key_id, "key": key, "fingerprint": fingerprint, "token": token,
                "created_at": at})
            session.commit()
            state()["idempotency"] = (row_id, token)
            return None
        except IntegrityError:
            session.rollback()
        row = session.execute(select(IdempotencyKey.id, IdempotencyKey.fingerprint, IdempotencyKey.token,
                                     IdempotencyKey.status_code, IdempotencyKey.response_body,
                                     IdempotencyKey.response_headers, IdempotencyKey.created_at)
                              .where(IdempotencyKey.api_key_id == api_key_id, IdempotencyKey.key == key)
                              ).one_or_none()
        session.rollback()
        if row is None:
            continue  # removed in between: try again
        if row.created_at <= at - KEEP:
            _remove(session, row.id, row.created_at)  # expired: the key is free again
            continue
        if row.fingerprint != fingerprint:
            raise ApiError(409, _l("Cet Idempotency-Key a déjà servi pour une autre requête : "
                                   "envoyez une nouvelle clé pour une nouvelle requête."),
                           fields={HEADER: [_l("Déjà utilisé pour une autre requête.")]})
        if row.status_code is not None:
            return _replay(row.status_code, row.response_body or "", row.response_headers or {})
        if row.created_at <= at - LEASE and _take_over(session, row.id, row.created_at, at):
            state()["idempotency"] = (row.id, row.token)
            return None
        raise ApiError(409, _l("Une requête avec cet Idempotency-Key est en cours : réessayez dans "
                               "un instant pour en avoir la réponse."), headers={"Retry-After": "1"})
    raise ApiError(409, _l("Conflit avec l'état actuel de la ressource."), headers={"Retry-After": "1"})


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What a key stands for: the same method, path and body bytes."""
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def request_token() -> str | None:
    """A name for what this request does (None without Idempotency-Key), the same for a retry
    that takes its key over: the workflow records the request once under it."""
    owned: tuple[int, str] | None = state().get("idempotency")
    return owned[1] if owned is not None else None


def finish(response: Response) -> Response:
    """After the view: store its answer with the key (a 5xx frees the key instead)."""
    owned: tuple[int, str] | None = state().pop("idempotency", None)
    if owned is None:
        return response
    row_id = owned[0]
    session = db.session
    try:
        session.rollback()  # whatever the view left open: the row is written on its own
        if response.status_code >= 500:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
        else:
            session.execute(_STORE_ANSWER, {
                "row_id": row_id,
                "new_status": response.status_code,
                "new_body": response.get_data(as_text=True),
                "new_headers": {name: response.headers[name] for name in STORED_HEADERS
                                if name in response.headers},
            })
        session.commit()
    except Exception:  # the answer goes out all the same; the key is retried after its lease
        log.exception("Could not store the answer of Idempotency-Key row %s", row_id)
        session.rollback()
    return response


def remove_expired(session: AnySession, at: datetime) -> int:
    """The sweep's part: keys older than KEEP are forgotten. Returns how many."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= at - KEEP))
    session.commit()
    return rows_matched(result)


def _replay(status: int, body: str, headers: dict[str, str]) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _remove(session: AnySession, row_id: int, created_at: datetime) -> None:
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                 IdempotencyKey.created_at == created_at))
    session.commit()


def _take_over(session: AnySession, row_id: int, created_at: datetime, at: datetime) -> bool:
    result = session.execute(update(IdempotencyKey).where(
        IdempotencyKey.id == row_id, IdempotencyKey.status_code.is_(None),
        IdempotencyKey.created_at == created_at).values(created_at=at))
    session.commit()
    return rows_matched(result) == 1
