"""Photos on contributions: checked by decoding, re-encoded without metadata, kept on disk.

What is stored is never the uploaded file. The upload is decoded by Pillow; only JPEG, PNG and
WebP are accepted (whatever the name or Content-Type claimed), the pixel count is checked
before decoding (decompression bombs), and the pixels are written into a fresh image, so EXIF
(with GPS position, camera serial numbers), XMP, ICC and text chunks stay behind. The orientation
EXIF tag is applied to the pixels first, so portrait photos still stand upright.
"""

from __future__ import annotations

import io
import os
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.config import Settings
from kaart.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Invalid,
    PayloadTooLarge,
    UnsupportedMediaType,
    not_found,
)
from kaart.providers.contributions import PUBLIC_WHERE
from kaart.services.contributions import authorise_edit_token

# Pillow format name -> (media type, file extension, save options).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg", {"quality": 85, "optimize": True}),
    "PNG": ("image/png", "png", {"optimize": True}),
    "WEBP": ("image/webp", "webp", {"quality": 82, "method": 4}),
}
EXTENSIONS = {media_type: ext for media_type, ext, _opts in FORMATS.values()}
# Longest side of what is kept (a phone photo of 4000 px is more than a page shows) and of the
# thumbnail on the contribution page.
LARGE_SIDE = 2048
THUMB_SIDE = 320


@dataclass(frozen=True)
class Encoded:
    media_type: str
    data: bytes
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int


REFUSALS = {
    400: BadRequest,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Invalid,
}


def _refuse(status: int, reason: str, code: str) -> ApiError:
    title = "Invalid photo" if status in (409, 422) else None
    return REFUSALS[status](reason, "photo", code, title=title)


def decode(data: bytes, settings: Settings) -> Image.Image:
    """The upload as a fully decoded image, or a 4xx naming what is wrong with it."""
    if not data:
        raise _refuse(400, "The request body is empty; send the photo's bytes.", "photo_missing")
    if len(data) > settings.photo_max_bytes:
        reason = f"The photo is larger than {settings.photo_max_bytes:,} bytes."
        raise _refuse(413, reason, "photo_too_large")
    bomb = _refuse(
        422,
        f"The image has more than {settings.photo_max_pixels:,} pixels.",
        "photo_too_many_pixels",
    )
    # WeasyPrint (the reactienota) turns this process-wide switch on when it is imported; with it
    # Pillow would fill a truncated upload with grey instead of refusing it. Nothing here needs
    # truncated images, so it is set off before every decode.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        # Pillow warns (and past twice its limit raises) on huge images while opening: both are
        # a refusal here, whatever the process-wide warning filters say.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only these decoders are tried: a GIF, TIFF or text file is "unidentified".
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            # Checked before any pixel is decoded: the header's size is what decoding would cost.
            if image.width * image.height > settings.photo_max_pixels:
                raise bomb
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise bomb from exc
    except UnidentifiedImageError as exc:
        reason = "Only JPEG, PNG and WebP images are accepted; this is none of them."
        raise _refuse(415, reason, "photo_type") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Truncated or corrupt data: Pillow found the header but not a whole image.
        reason = "The image is damaged or incomplete and cannot be read."
        raise _refuse(422, reason, "photo_unreadable") from exc
    return image


def encode(image: Image.Image) -> Encoded:
    """Re-encode the decoded pixels in the same format, without any metadata, plus a thumbnail."""
    media_type, _ext, options = FORMATS[image.format]
    fmt = image.format
    upright = ImageOps.exif_transpose(image)
    alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    upright = upright.convert("RGBA" if alpha and fmt != "JPEG" else "RGB")
    # A fresh image from the raw pixels: nothing of the upload's info (exif, xmp, icc_profile,
    # comments, text chunks) can travel along.
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    clean.thumbnail((LARGE_SIDE, LARGE_SIDE), Image.Resampling.LANCZOS)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Encoded(
        media_type=media_type,
        data=_save(clean, fmt, options),
        width=clean.width,
        height=clean.height,
        thumb=_save(thumb, fmt, options),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
    )


def _save(image: Image.Image, fmt: str, options: dict) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


INITIATIVE_FOLDER = "initiatives"  # photos of initiatives' updates, under the upload folder


def photo_paths(upload_dir: Path, photo_id: uuid.UUID, media_type: str) -> tuple[Path, Path]:
    """Where a photo and its thumbnail live: named by our own id, never by the upload's name."""
    ext = EXTENSIONS[media_type]
    folder = upload_dir / str(photo_id)[:2]
    return folder / f"{photo_id}.{ext}", folder / f"{photo_id}.thumb.{ext}"


@dataclass(frozen=True)
class Added:
    photo: dict
    files: tuple[Path, ...]  # written already; the caller removes them if it does not commit


def add(
    session: Session,
    settings: Settings,
    contribution_id: uuid.UUID,
    token: str | None,
    data: bytes,
) -> Added:
    """Check the edit token and the image, then store it: the row (in the caller's
    transaction) and both files. If the caller does not commit, it must `discard` the files."""
    authorise_edit_token(session, contribution_id, token)
    count = session.execute(
        text("SELECT count(*) FROM photo WHERE contribution_id = :id"), {"id": contribution_id}
    ).scalar_one()
    if count >= settings.photo_max_count:
        reason = f"A contribution has at most {settings.photo_max_count} photos."
        raise _refuse(409, reason, "photo_limit")
    encoded = encode(decode(data, settings))
    row = session.execute(
        text(
            f"""
            INSERT INTO photo (contribution_id, media_type, width, height, bytes,
                               thumb_width, thumb_height)
            VALUES (:cid, :media_type, :width, :height, :bytes, :tw, :th)
            RETURNING {PHOTO_COLUMNS.replace("p.", "")}
            """
        ),
        {
            "cid": contribution_id,
            "media_type": encoded.media_type,
            "width": encoded.width,
            "height": encoded.height,
            "bytes": len(encoded.data),
            "tw": encoded.thumb_width,
            "th": encoded.thumb_height,
        },
    ).one()
    paths = photo_paths(settings.upload_dir, row.id, encoded.media_type)
    write_files(paths, (encoded.data, encoded.thumb))
    return Added(describe(row), paths)


def write_files(paths: tuple[Path, ...], contents: tuple[bytes, ...]) -> None:
    """A photo and its thumbnail, each complete or not there (nothing left on an error)."""
    try:
        for path, content in zip(paths, contents, strict=True):
            _write_file(path, content)
    except BaseException:
        discard(paths)
        raise


def discard(files: tuple[Path, ...]) -> None:
    """Remove the files of a photo whose row was not committed."""
    for path in files:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".part").unlink(missing_ok=True)


def _write_file(path: Path, content: bytes) -> None:
    """Written beside its place and renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


PHOTO_COLUMNS = "p.id, p.contribution_id, p.media_type, p.width, p.height, p.bytes, " + (
    "p.thumb_width, p.thumb_height, p.created_at"
)


def _row(session: Session, photo_id: uuid.UUID):
    return session.execute(
        text(f"SELECT {PHOTO_COLUMNS} FROM photo p WHERE p.id = :id"), {"id": photo_id}
    ).one()


def describe(row) -> dict:
    """A photo as the API and pages show it."""
    ext = EXTENSIONS[row.media_type]
    return {
        "id": str(row.id),
        "contribution_id": str(row.contribution_id),
        "media_type": row.media_type,
        "width": row.width,
        "height": row.height,
        "bytes": row.bytes,
        "url": f"/fotos/{row.id}.{ext}",
        "thumbnail": {
            "url": f"/fotos/{row.id}.thumb.{ext}",
            "width": row.thumb_width,
            "height": row.thumb_height,
        },
        "created_at": row.created_at.isoformat(),
    }


def public_photos(session: Session, contribution_id: uuid.UUID) -> list[dict]:
    """The photos of a contribution the public may see, oldest first."""
    rows = session.execute(
        text(
            f"SELECT {PHOTO_COLUMNS} FROM photo p JOIN contribution c ON c.id = p.contribution_id "
            f"WHERE p.contribution_id = :id AND {PUBLIC_WHERE} ORDER BY p.created_at, p.id"
        ),
        {"id": contribution_id},
    ).all()
    return [describe(row) for row in rows]


def public_file(
    session: Session, settings: Settings, photo_id: uuid.UUID, thumb: bool
) -> tuple[Path, str]:
    """The file of a photo of a public contribution, with its media type; 404 otherwise."""
    row = session.execute(
        text(
            "SELECT p.media_type FROM photo p JOIN contribution c ON c.id = p.contribution_id "
            f"WHERE p.id = :id AND {PUBLIC_WHERE}"
        ),
        {"id": photo_id},
    ).one_or_none()
    if row is None:
        raise not_found("This photo")
    large, small = photo_paths(settings.upload_dir, photo_id, row.media_type)
    path = small if thumb else large
    if not path.is_file():
        raise not_found("This photo's file")
    return path, row.media_type


def remove(
    session: Session,
    settings: Settings,
    contribution_id: uuid.UUID,
    token: str | None,
    photo_id: uuid.UUID,
) -> tuple[Path, ...]:
    """The author removes a photo: the row goes in the caller's transaction; returns the files,
    which the caller removes (`discard`) once it has committed."""
    authorise_edit_token(session, contribution_id, token)
    media_type = session.execute(
        text("DELETE FROM photo WHERE id = :id AND contribution_id = :cid RETURNING media_type"),
        {"id": photo_id, "cid": contribution_id},
    ).scalar_one_or_none()
    if media_type is None:
        raise not_found("This photo")
    return photo_paths(settings.upload_dir, photo_id, media_type)


def orphans(session: Session, upload_dir: Path, min_age_s: float = 3600) -> list[Path]:
    """Files under the upload folder that belong to no photo row: left by a crash mid-upload
    (`.part`), by a restored database or by contributions erased in SQL. Files younger than
    `min_age_s` are left alone: their upload may still be committing."""
    if not upload_dir.is_dir():
        return []
    known: set[str] = set()
    for photo_id, media_type in session.execute(text("SELECT id, media_type FROM photo")):
        known.update(str(p) for p in photo_paths(upload_dir, photo_id, media_type))
    # Photos of initiatives' updates (kaart/services/initiative_photos.py), in their folder.
    updates = session.execute(
        text("SELECT photo_id, photo_media_type FROM initiative_update WHERE photo_id IS NOT NULL")
    )
    for photo_id, media_type in updates:
        folder = upload_dir / INITIATIVE_FOLDER
        known.update(str(p) for p in photo_paths(folder, photo_id, media_type))
    cutoff = time.time() - min_age_s
    return sorted(
        p
        for p in upload_dir.rglob("*")
        if p.is_file() and str(p) not in known and p.stat().st_mtime < cutoff
    )
