"""A photo with an initiative's update: checked and encoded like a contribution's photo
(kaart/services/photos.py: type, size, pixels, metadata stripped), stored under the upload
folder's `initiatives/` (the orphan sweep of photos.py knows them) and served only while the
initiative is public.

    files = attach(session, settings, update_id, data)   # in the caller's transaction
    # not committed after all: photos.discard(files)
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.errors import not_found
from kaart.providers.initiatives import PUBLIC_WHERE
from kaart.services import photos


def folder(upload_dir: Path) -> Path:
    return upload_dir / photos.INITIATIVE_FOLDER


def attach(session: Session, settings: Settings, update_id: int, data: bytes) -> tuple[Path, ...]:
    """Encode the image and store it with update `update_id`; returns the files written,
    which the caller removes (`photos.discard`) if its transaction does not commit."""
    encoded = photos.encode(photos.decode(data, settings))
    photo_id = uuid.uuid4()
    session.execute(
        text(
            "UPDATE initiative_update SET photo_id = :p, photo_media_type = :m, "
            "photo_width = :w, photo_height = :h WHERE id = :id"
        ),
        {
            "p": photo_id,
            "m": encoded.media_type,
            "w": encoded.width,
            "h": encoded.height,
            "id": update_id,
        },
    )
    paths = photos.photo_paths(folder(settings.upload_dir), photo_id, encoded.media_type)
    photos.write_files(paths, (encoded.data, encoded.thumb))
    return paths


def public_file(
    session: Session, settings: Settings, photo_id: uuid.UUID, thumb: bool
) -> tuple[Path, str]:
    """The file of an update's photo while its initiative is public; 404 otherwise."""
    media_type = session.execute(
        text(
            "SELECT u.photo_media_type FROM initiative_update u "
            f"JOIN initiative i ON i.id = u.initiative_id WHERE u.photo_id = :id AND {PUBLIC_WHERE}"
        ),
        {"id": photo_id},
    ).scalar_one_or_none()
    if media_type is None:
        raise not_found("This photo")
    large, small = photos.photo_paths(folder(settings.upload_dir), photo_id, media_type)
    path = small if thumb else large
    if not path.is_file():
        raise not_found("This photo's file")
    return path, media_type
