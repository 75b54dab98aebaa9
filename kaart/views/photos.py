"""Photos: upload and remove with the edit token (JSON API), list them, serve the files."""

from __future__ import annotations

import json
import re
import uuid

from flask import Blueprint, Response, current_app, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from kaart.db import get_session, transaction
from kaart.errors import ApiError, FieldError, not_found
from kaart.services import idempotency
from kaart.services import photos as service
from kaart.views.api import _uuid
from kaart.web import bearer_token, idempotency_key, limit_client

bp = Blueprint("photos", __name__)

FILE_NAME = re.compile(
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?P<thumb>\.thumb)?\.(?P<ext>jpg|png|webp)"
)


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers or {},
    )


def _photo_body() -> bytes:
    """The raw request body, allowed to be as large as a photo may be (not just a Feature)."""
    limit = current_app.config["KAART"].photo_max_bytes
    request.max_content_length = limit + 1  # one byte more, so the service can say "too large"
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        reason = f"The photo is larger than {limit:,} bytes."
        raise ApiError(
            413, "Payload too large", reason, [FieldError("photo", reason, "photo_too_large")]
        ) from exc


@bp.post("/api/v1/contributions/<contribution_id>/photos")
def upload(contribution_id: str) -> Response:
    ident = _uuid(contribution_id)
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


@bp.get("/api/v1/contributions/<contribution_id>/photos")
def list_photos(contribution_id: str) -> Response:
    photos = service.public_photos(get_session(), _uuid(contribution_id))
    return _json({"photos": photos})


@bp.delete("/api/v1/contributions/<contribution_id>/photos/<photo_id>")
def delete(contribution_id: str, photo_id: str) -> Response:
    try:
        photo = uuid.UUID(photo_id)
    except ValueError as exc:
        raise not_found("This photo") from exc
    settings = current_app.config["KAART"]
    with transaction() as session:
        files = service.remove(session, settings, _uuid(contribution_id), bearer_token(), photo)
        limit_client(session, "edit")
    service.discard(files)
    return Response(status=204)


@bp.get("/fotos/<name>")
def photo_file(name: str) -> Response:
    match = FILE_NAME.fullmatch(name)
    if match is None:
        raise not_found("This photo")
    settings = current_app.config["KAART"]
    path, media_type = service.public_file(
        get_session(), settings, uuid.UUID(match["id"]), bool(match["thumb"])
    )
    if service.EXTENSIONS[media_type] != match["ext"]:
        raise not_found("This photo")
    response = send_file(path, mimetype=media_type, max_age=3600, conditional=True)
    # Hidden or withdrawn later: shared caches must ask again rather than keep it.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.app_template_global()
def contribution_photos(contribution_id: str) -> list[dict]:
    """For the contribution page: its public photos (an empty list for an unknown id)."""
    try:
        ident = uuid.UUID(str(contribution_id))
    except ValueError:
        return []
    return service.public_photos(get_session(), ident)


@bp.app_template_global()
def config_photo_max_bytes() -> int:
    return current_app.config["KAART"].photo_max_bytes
