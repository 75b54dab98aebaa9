"""The photo files of public contributions (/fotos/…), and the upload limit the pages show."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Response, current_app, send_file

from kaart.db import get_session
from kaart.errors import NotFound
from kaart.services import photos as service
from kaart.views.public import bp

FILE_NAME = re.compile(
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?P<thumb>\.thumb)?\.(?P<ext>jpg|png|webp)"
)


@bp.get("/fotos/<name>")
def photo_file(name: str) -> Response:
    return send_photo(name, service.public_file)


def send_photo(name: str, find: Callable[..., tuple[Path, str]]) -> Response:
    """A photo or thumbnail file by its name `<id>[.thumb].<ext>`, found by `find(session,
    settings, id, thumb)` (which says 404 when it is not public); also initiatives' photos."""
    match = FILE_NAME.fullmatch(name)
    if match is None:
        raise NotFound("This photo")
    settings = current_app.config["KAART"]
    # The primary, not the replica: an upload's 201 names this file as its Location.
    path, media_type = find(get_session(), settings, uuid.UUID(match["id"]), bool(match["thumb"]))
    if service.EXTENSIONS[media_type] != match["ext"]:
        raise NotFound("This photo")
    response = send_file(path, mimetype=media_type, max_age=3600, conditional=True)
    # Hidden or withdrawn later: shared caches must ask again rather than keep it.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.app_template_global()
def config_photo_max_bytes() -> int:
    return current_app.config["KAART"].photo_max_bytes
