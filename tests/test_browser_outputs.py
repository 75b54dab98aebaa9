"""A planner in Chromium: logs in, filters /beheer/overzicht, sees the choropleth, downloads an
export and the reactienota PDF — and the browser never contacts another host. Through the
deployed stack: nginx in front of `kaart serve` with two workers (tests/stack.py)."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kaart.services import users
from tests.fixtures.outputs.seed import seed_weesp

pytestmark = pytest.mark.browser

EMAIL = "browser-planner@weesp.example"
PASSWORD = "een lang en geheim wachtwoord"


@pytest.fixture
def outputs_server(deployed) -> str:
    """The deployed stack, through nginx (its photos go to the stack's own upload folder)."""
    return deployed.url


@pytest.fixture
def weesp(engine: Engine, deployed_db):
    """The Weesp process and its contributions, committed for the stack; deployed_db removes
    them afterwards."""
    with engine.begin() as conn:
        seed = seed_weesp(conn)
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            users.create(session, EMAIL, PASSWORD, ["planner"], display_name="Bram Browser")
            session.commit()
    return seed


@pytest.fixture
def planner_page(browser, outputs_server: str, weesp) -> Iterator[Page]:
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # CSP refusals and failed loads show up as console errors, in the map's frame too.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: requests.append(req.url))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.set_default_timeout(20_000)
    page.expected_failures = []  # a test that provokes a 4xx names its URL part here
    yield page
    context.close()
    errors = [
        e
        for e in errors
        if not (page.expected_failures and "Failed to load resource" in e)
        and not any(part in e for part in page.expected_failures)
    ]
    assert not errors, f"errors in the browser: {errors}"
    elsewhere = [u for u in requests if not u.startswith((outputs_server, "data:", "blob:"))]
    assert not elsewhere, f"requests to other hosts: {elsewhere}"


def log_in(page: Page, server: str) -> None:
    page.goto(f"{server}/beheer/overzicht")
    expect(page).to_have_url(re.compile(r"/inloggen"))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name=re.compile("Inloggen")).click()
    expect(page.get_by_role("heading", name="Overzicht van de bijdragen")).to_be_visible()


def test_planner_filters_sees_the_choropleth_downloads_and_makes_the_reactienota(
    planner_page: Page, outputs_server: str, weesp
):
    page = planner_page
    log_in(page, outputs_server)
    expect(page.locator("#overview-total")).to_have_text("6 bijdragen in deze selectie.")

    # Filter: the process, only published contributions.
    page.select_option("#filter-process", label="Groener Weesp Centrum")
    page.get_by_label("Gepubliceerd").check()
    page.click("#filters-apply")
    expect(page.locator("#overview-total")).to_have_text("3 bijdragen in deze selectie.")
    expect(page).to_have_url(re.compile(rf"process={weesp.process}.*visibility=published"))
    titles = page.locator("#overview-table tbody tr td:first-child a").all_inner_texts()
    assert sorted(titles) == [
        "Pluktuin op het Singel",
        "Schommel op Het Grote Plein",
        "Te hard rijden in de Nieuwstraat",
    ]
    expect(page.get_by_label("Gepubliceerd")).to_be_checked()  # the form keeps the filters

    # The choropleth: folium's Leaflet map in its frame, Weesp Centrum coloured by its count.
    expect(page.locator("#overview-legend")).to_contain_text("Aantal bijdragen per buurt")
    frame = page.frame_locator("#overview-map")
    buurten = frame.locator("path.leaflet-interactive")
    expect(buurten.first).to_be_visible()
    assert buurten.count() >= 2  # the buurt and its surroundings, plus the points
    fills = {buurten.nth(i).get_attribute("fill") for i in range(buurten.count())}
    assert "#993404" in fills  # Weesp Centrum holds the most: the darkest class
    assert "#f4f4f4" in fills  # neighbours without input stay light
    expect(page.locator("#buurt-figures")).to_contain_text("Weesp Centrum")

    # An export of exactly this selection.
    with page.expect_download() as info:
        page.click("#export-geojson")
    download = info.value
    assert download.suggested_filename.endswith(".geojson")
    with open(download.path(), encoding="utf-8") as handle:
        data = json.load(handle)
    assert {f["properties"]["title"] for f in data["features"]} == set(titles)
    assert all(f["properties"]["visibility"] == "published" for f in data["features"])

    # The reactienota of the process, as a PDF.
    with page.expect_download() as info:
        page.click("#reactienota-pdf-groen-weesp-centrum")
    report = info.value
    assert report.suggested_filename == "reactienota-groen-weesp-centrum.pdf"
    with open(report.path(), "rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    flat = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Er zijn 3 bijdragen gepubliceerd." in flat
    for title in titles:
        assert title in flat
    assert {image.data for p in reader.pages for image in p.images}, "the map image"

    # And its HTML version opens in the browser with the map.
    page.click("#reactienota-html-groen-weesp-centrum")
    expect(page.locator("#reactienota-title")).to_have_text("Groener Weesp Centrum")
    expect(page.locator("#reactienota-map")).to_be_visible()
    width = page.locator("#reactienota-map").evaluate("img => img.naturalWidth")
    assert width > 600


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fairphone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 18.0, 23.7)}
    )
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (46, 125, 50)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_resident_adds_and_removes_a_photo_on_the_private_edit_page(
    planner_page: Page, outputs_server: str, weesp, tmp_path
):
    page = planner_page
    page.expected_failures.append("/photos")  # the refused file below is a 415
    created = page.request.post(
        f"{outputs_server}/api/v1/contributions",
        data=json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [5.04234, 52.30658]},
                "properties": {"category": "groen", "title": "Boom bij de kerk"},
            }
        ),
        headers={"Content-Type": "application/geo+json"},
    )
    assert created.status == 201
    body = created.json()
    page.goto(outputs_server + body["edit_url"])
    expect(page.get_by_role("heading", name="Foto's")).to_be_visible()
    expect(page.locator("#photo-empty")).to_be_visible()

    # A text file dressed up as a photo is refused with a clear message.
    fake = tmp_path / "vakantie.jpg"
    fake.write_text("geen foto")
    page.set_input_files("#photo-file", str(fake))
    page.click("#photo-upload")
    expect(page.locator("#photo-status")).to_have_text(
        "Dit bestand is geen JPEG-, PNG- of WebP-foto."
    )

    photo = tmp_path / "boom.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.set_input_files("#photo-file", str(photo))
    page.click("#photo-upload")
    expect(page.locator("#photo-status")).to_have_text("Foto toegevoegd.")
    thumb = page.locator("#photo-list img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("alt", "Foto 1 bij ‘Boom bij de kerk’")
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 320

    # The public page shows it; the stored file has no EXIF.
    page.goto(f"{outputs_server}/bijdragen/{body['id']}")
    link = page.locator(".photos__link")
    expect(link).to_have_count(1)
    stored = page.request.get(outputs_server + link.get_attribute("href")).body()
    assert b"Exif" not in stored and b"Fairphone" not in stored

    page.goto(outputs_server + f"/bijdragen/{body['id']}/bewerken")  # token from the session
    page.get_by_role("button", name="Foto 1 verwijderen").click()
    expect(page.locator("#photo-status")).to_have_text("Foto verwijderd.")
    expect(page.locator("#photo-list img")).to_have_count(0)
    assert uuid.UUID(body["id"])
