"""Photos on contributions: only decoded JPEG/PNG/WebP, re-encoded without EXIF (GPS), with a
thumbnail, on disk under KAART_UPLOAD_DIR; anything else is a 4xx that leaves no trace."""

from __future__ import annotations

import io
import random
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from kaart import create_app
from tests.places import feature, point

API = "/api/v1/contributions"
MAX_BYTES = 300_000
MAX_PIXELS = 4_000_000
MAX_BODY = 50_000
# Het Grote Plein, Weesp, as a camera writes it: degrees, minutes, seconds.
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 18.0, 23.7),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (5.0, 2.0, 32.4),
}


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(settings, connection, upload_dir):
    limits = settings.replace(
        upload_dir=upload_dir,
        photo_max_bytes=MAX_BYTES,
        photo_max_pixels=MAX_PIXELS,
        max_body_bytes=MAX_BODY,  # a photo may be larger than a JSON body
    )
    return create_app({"settings": limits, "db_bind": connection})


def image_bytes(fmt: str = "JPEG", size=(640, 480), exif=None, mode="RGB", **options) -> bytes:
    image = Image.new(mode, size, (40, 120, 60) if mode == "RGB" else (40, 120, 60, 128))
    for x in range(0, size[0], 16):  # some detail, so re-encoding has something to do
        image.putpixel((x, size[1] // 2), (250, 250, 250) if mode == "RGB" else (250, 0, 0, 255))
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    image.save(out, format=fmt, **options)
    return out.getvalue()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fairphone"
    exif[ExifTags.Base.Model] = "FP5"
    exif[ExifTags.Base.BodySerialNumber] = "SERIAL-1234"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    return exif


def contribution(client) -> dict:
    r = client.post(API, json=feature(point(), title="Bankje met foto"))
    assert r.status_code == 201
    return r.get_json()


def upload(client, body: dict, data: bytes, content_type="image/jpeg", token=None):
    return client.post(
        f"{API}/{body['id']}/photos",
        data=data,
        headers={
            "Authorization": f"Bearer {token or body['edit_token']}",
            "Content-Type": content_type,
        },
    )


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_jpeg_with_gps_exif_is_stored_without_any_exif_and_with_a_thumbnail(
    client, upload_dir, count_rows
):
    original = image_bytes(exif=gps_exif())
    with Image.open(io.BytesIO(original)) as check:  # the fixture really carries GPS
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    body = contribution(client)

    r = upload(client, body, original)
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    assert photo["media_type"] == "image/jpeg"
    assert (photo["width"], photo["height"]) == (640, 480)
    assert photo["thumbnail"]["width"] == 320 and photo["thumbnail"]["height"] == 240
    assert r.headers["Location"] == photo["url"]
    assert count_rows("photo") == 1

    stored = files_in(upload_dir)
    assert len(stored) == 2 and all(p.suffix == ".jpg" for p in stored)
    for path in stored:
        raw = path.read_bytes()
        assert b"Exif" not in raw and b"Fairphone" not in raw and b"SERIAL-1234" not in raw
        with Image.open(path) as saved:
            assert saved.format == "JPEG"
            assert not saved.getexif()  # no tags at all, so no GPS IFD
            assert "exif" not in saved.info

    with client.get(photo["url"]) as served:  # a file response: closed after reading
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.data in {p.read_bytes() for p in stored}
        assert b"Exif" not in served.data
    with client.get(photo["thumbnail"]["url"]) as thumb:
        assert thumb.status_code == 200
        with Image.open(io.BytesIO(thumb.data)) as small:
            assert small.size == (320, 240)


def test_the_orientation_tag_is_applied_to_the_pixels_before_it_is_dropped(client, upload_dir):
    body = contribution(client)
    # Orientation 6: the camera was held upright, the sensor stored the picture lying down.
    r = upload(client, body, image_bytes(size=(400, 300), exif=gps_exif(orientation=6)))
    assert r.status_code == 201
    assert (r.get_json()["width"], r.get_json()["height"]) == (300, 400)


@pytest.mark.parametrize(
    ("fmt", "media_type", "mode", "ext"),
    [("PNG", "image/png", "RGBA", ".png"), ("WEBP", "image/webp", "RGB", ".webp")],
)
def test_png_and_webp_are_kept_in_their_format_without_metadata(
    client, upload_dir, fmt, media_type, mode, ext
):
    exif = gps_exif()
    body = contribution(client)
    # A misleading Content-Type does not matter: the decoded image decides.
    r = upload(client, body, image_bytes(fmt, mode=mode, exif=exif), content_type="image/jpeg")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["media_type"] == media_type
    for path in files_in(upload_dir):
        assert path.suffix == ext
        with Image.open(path) as saved:
            assert saved.format == fmt
            assert not saved.getexif()
            if fmt == "PNG":
                assert saved.mode == "RGBA"  # transparency survives


def test_a_large_photo_is_scaled_down_and_its_thumbnail_is_small(client, upload_dir):
    body = contribution(client)
    data = image_bytes(size=(3000, 1000), quality=30)
    assert len(data) < MAX_BYTES
    photo = upload(client, body, data).get_json()
    assert (photo["width"], photo["height"]) == (2048, 683)
    assert photo["thumbnail"]["width"] == 320


def truncated_jpeg() -> bytes:
    data = image_bytes(size=(800, 600))
    return data[: len(data) // 2]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image: decoding it would need gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat_data = zlib.compress(b"\x00" * 1024)
    idat = b"IDAT" + idat_data
    idat_chunk = struct.pack(">I", len(idat_data)) + idat + struct.pack(">I", zlib.crc32(idat))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat_chunk + end


BAD_FILES = {
    "text named .jpg": (b"Dit is geen foto, maar tekst.\n" * 20, 415, "photo_type"),
    "truncated jpeg": (truncated_jpeg(), 422, "photo_unreadable"),
    "gif": (image_bytes("GIF", size=(64, 64)), 415, "photo_type"),
    "oversized": (b"\xff\xd8\xff" + b"\x00" * MAX_BYTES, 413, "photo_too_large"),
    "bomb over our limit": (png_claiming(2100, 2100), 422, "photo_too_many_pixels"),
    "bomb over pillow's limit": (png_claiming(60_000, 60_000), 422, "photo_too_many_pixels"),
    "empty": (b"", 400, "photo_missing"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_a_problem_and_leave_nothing_on_disk_or_in_the_database(
    client, upload_dir, count_rows, name
):
    data, status, code = BAD_FILES[name]
    body = contribution(client)
    r = upload(client, body, data)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["status"] == status
    assert problem["errors"][0]["field"] == "photo" and problem["errors"][0]["code"] == code
    assert count_rows("photo") == 0
    assert files_in(upload_dir) == []


def test_upload_needs_the_contributions_own_edit_token(client, upload_dir, count_rows):
    body = contribution(client)
    other = contribution(client)
    data = image_bytes()
    no_token = client.post(f"{API}/{body['id']}/photos", data=data)
    assert no_token.status_code == 401 and no_token.mimetype == "application/problem+json"
    wrong = upload(client, body, data, token=other["edit_token"])
    assert wrong.status_code == 403
    unknown = upload(client, {**body, "id": str(uuid.uuid4())}, data)
    assert unknown.status_code == 404
    assert count_rows("photo") == 0 and files_in(upload_dir) == []


def test_at_most_the_configured_number_of_photos(client, upload_dir, app):
    body = contribution(client)
    limit = app.config["KAART"].photo_max_count
    for _ in range(limit):
        assert upload(client, body, image_bytes(size=(64, 64))).status_code == 201
    r = upload(client, body, image_bytes(size=(64, 64)))
    assert r.status_code == 409 and r.get_json()["errors"][0]["code"] == "photo_limit"
    assert len(files_in(upload_dir)) == 2 * limit


def test_the_contribution_page_shows_thumbnails_with_alt_text(client):
    body = contribution(client)
    photo = upload(client, body, image_bytes()).get_json()
    html = client.get(f"/bijdragen/{body['id']}").get_data(as_text=True)
    assert '<h2 id="photos-title" class="section-title">Foto&#39;s</h2>' in html
    assert f'href="{photo["url"]}"' in html and f'src="{photo["thumbnail"]["url"]}"' in html
    assert 'alt="Foto 1 bij ‘Bankje met foto’"' in html
    english = client.get(f"/bijdragen/{body['id']}?lang=en").get_data(as_text=True)
    assert "Photo 1 of ‘Bankje met foto’" in english

    plain = contribution(client)
    assert "photos-title" not in client.get(f"/bijdragen/{plain['id']}").get_data(as_text=True)


def test_listing_deleting_and_withdrawing(client, upload_dir, count_rows):
    body = contribution(client)
    photo = upload(client, body, image_bytes()).get_json()
    listed = client.get(f"{API}/{body['id']}/photos").get_json()["photos"]
    assert [p["id"] for p in listed] == [photo["id"]]

    auth = {"Authorization": f"Bearer {body['edit_token']}"}
    assert client.delete(f"{API}/{body['id']}/photos/{photo['id']}").status_code == 401
    assert (
        client.delete(f"{API}/{body['id']}/photos/{photo['id']}", headers=auth).status_code == 204
    )
    assert count_rows("photo") == 0 and files_in(upload_dir) == []
    assert client.get(photo["url"]).status_code == 404
    missing = client.delete(f"{API}/{body['id']}/photos/{photo['id']}", headers=auth)
    assert missing.status_code == 404

    again = upload(client, body, image_bytes()).get_json()
    assert client.delete(f"{API}/{body['id']}", headers=auth).status_code == 204
    # A withdrawn contribution's photos are no longer served.
    assert client.get(again["url"]).status_code == 404
    assert client.get(f"{API}/{body['id']}/photos").get_json()["photos"] == []


def test_photo_file_names_are_ours_only(client):
    for name in ("../../etc/passwd", "x.jpg", f"{uuid.uuid4()}.gif", f"{uuid.uuid4()}.jpg"):
        assert client.get(f"/fotos/{name}").status_code == 404


def test_photo_settings_come_from_kaart_variables_and_are_checked(tmp_path):
    from kaart.config import Settings
    from kaart.errors import ConfigError

    base = {"KAART_DATABASE_URL": "postgresql+psycopg:///x"}
    settings = Settings.from_env(
        {
            **base,
            "KAART_UPLOAD_DIR": str(tmp_path / "fotos"),
            "KAART_PHOTO_MAX_BYTES": "2000000",
            "KAART_PHOTO_MAX_PIXELS": "1000000",
            "KAART_PHOTO_MAX_COUNT": "2",
        }
    )
    assert settings.upload_dir == tmp_path / "fotos"
    assert (settings.photo_max_bytes, settings.photo_max_pixels, settings.photo_max_count) == (
        2_000_000,
        1_000_000,
        2,
    )
    assert Settings.from_env(base).upload_dir.parts[-2:] == ("var", "uploads")
    a_file = tmp_path / "bestand"
    a_file.write_text("geen map")
    with pytest.raises(ConfigError, match="KAART_UPLOAD_DIR"):
        Settings.from_env({**base, "KAART_UPLOAD_DIR": str(a_file)})
    with pytest.raises(ConfigError, match="KAART_PHOTO_MAX_BYTES must be a positive number"):
        Settings.from_env({**base, "KAART_PHOTO_MAX_BYTES": "-1"})


def test_a_truncated_jpeg_is_refused_even_after_weasyprint_was_imported(client, upload_dir):
    import weasyprint  # noqa: F401  (it sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True)

    body = contribution(client)
    r = upload(client, body, truncated_jpeg())
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "photo_unreadable"
    assert files_in(upload_dir) == []


def test_photos_of_a_hidden_contribution_are_not_served(client, connection):
    from sqlalchemy import text

    body = contribution(client)
    photo = upload(client, body, image_bytes()).get_json()
    connection.execute(
        text("UPDATE contribution SET visibility = 'hidden' WHERE id = :id"), {"id": body["id"]}
    )
    assert client.get(photo["url"]).status_code == 404
    assert client.get(photo["thumbnail"]["url"]).status_code == 404
    assert client.get(f"{API}/{body['id']}/photos").get_json()["photos"] == []


def test_a_photo_may_be_larger_than_the_json_body_limit(client, upload_dir):
    noise = Image.frombytes("RGB", (300, 300), bytes(random.Random(7).randbytes(300 * 300 * 3)))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    assert MAX_BODY < len(data) < MAX_BYTES
    body = contribution(client)
    assert upload(client, body, data).status_code == 201
    too_big_feature = client.post(API, data=b" " * (MAX_BODY + 1), content_type="application/json")
    assert too_big_feature.status_code == 413  # the JSON API keeps its own limit


def test_prune_removes_only_old_files_without_a_photo_row(client, upload_dir, connection):
    import os
    import time

    from sqlalchemy.orm import Session

    from kaart.services.photos import orphans

    body = contribution(client)
    upload(client, body, image_bytes())
    kept = files_in(upload_dir)
    stray = upload_dir / "ab" / f"{uuid.uuid4()}.jpg"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left behind")
    partial = upload_dir / "cd" / f"{uuid.uuid4()}.jpg.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half")
    fresh = upload_dir / "ef" / f"{uuid.uuid4()}.png"
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"an upload still committing")
    two_hours_ago = time.time() - 7200
    for path in (*kept, stray, partial):
        os.utime(path, (two_hours_ago, two_hours_ago))

    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        assert orphans(session, upload_dir) == sorted([stray, partial])
        assert fresh in orphans(session, upload_dir, min_age_s=0)
        assert orphans(session, upload_dir / "nothing-here") == []


def test_the_prune_command(tmp_path, database_url):
    from click.testing import CliRunner

    from kaart.cli import main

    folder = tmp_path / "uploads"
    (folder / "ab").mkdir(parents=True)
    stray = folder / "ab" / "stray.jpg"
    stray.write_bytes(b"x")
    env = {"KAART_DATABASE_URL": database_url, "KAART_UPLOAD_DIR": str(folder)}
    runner = CliRunner()
    dry = runner.invoke(main, ["photos", "prune", "--dry-run", "--min-age", "0"], env=env)
    assert dry.exit_code == 0 and str(stray) in dry.output and stray.exists()
    assert "would remove 1 file(s)" in dry.output
    done = runner.invoke(main, ["photos", "prune", "--min-age", "0"], env=env)
    assert done.exit_code == 0 and not stray.exists()
