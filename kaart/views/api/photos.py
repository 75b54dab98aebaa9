"""/api/v1 photos of a contribution: upload and remove with the edit token, list the public
ones. (The files themselves are served by kaart/views/public/photos.py.)"""

from __future__ import annotations

import json
import uuid

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from kaart.db import get_read_session, transaction
from kaart.errors import PayloadTooLarge
from kaart.services import idempotency
from kaart.services import photos as service
from kaart.views.api import bp
from kaart.views.api.io import as_json
from kaart.web import bearer_token, idempotency_key, limit_client


def _photo_body() -> bytes:
    """The raw request body, allowed to be as large as a photo may be (not just a Feature)."""
    limit = current_app.config["KAART"].photo_max_bytes
    request.max_content_length = limit + 1  # one byte more, so the service can say "too large"
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        reason = f"The photo is larger than {limit:,} bytes."
        raise PayloadTooLarge(reason, "photo", "photo_too_large") from exc


@bp.post("/contributions/<uuid:contribution_id>/photos")
def upload_photo(contribution_id: uuid.UUID) -> Response:
    ident = contribution_id
    settings = current_app.config["KAART"]
    body = _photo_body()
    key = idempotency_key()
    scope = f"photo:{ident}"
    digest = idempotency.request_digest(request.method, request.path, body)
    added = None
    try:
        with transaction() as session:
            if key and (answer := idempotency.find(session, scope, key, digest)):
                return _photo_created(answer.body, replayed=True)
            added = service.add(session, settings, ident, bearer_token(), body)
            limit_client(session, "edit")
            text = json.dumps(added.photo, ensure_ascii=False)
            if key:
                answer = idempotency.Answer(
                    201, added.photo["url"], text, uuid.UUID(added.photo["id"])
                )
                idempotency.remember(session, scope, key, digest, answer)
    except BaseException:
        if added is not None:
            service.discard(added.files)  # the row was not committed: neither are the files
        raise
    return _photo_created(text)


def _photo_created(text: str, replayed: bool = False) -> Response:
    headers = {"Location": json.loads(text)["url"], "Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(text, status=201, mimetype="application/json", headers=headers)


@bp.get("/contributions/<uuid:contribution_id>/photos")
def list_photos(contribution_id: uuid.UUID) -> Response:
    return as_json({"photos": service.public_photos(get_read_session(), contribution_id)})


@bp.delete("/contributions/<uuid:contribution_id>/photos/<uuid:photo_id>")
def delete_photo(contribution_id: uuid.UUID, photo_id: uuid.UUID) -> Response:
    settings = current_app.config["KAART"]
    with transaction() as session:
        files = service.remove(session, settings, contribution_id, bearer_token(), photo_id)
        limit_client(session, "edit")
    service.discard(files)
    return Response(status=204)
