"""Prebuilt tiles on the resident's map, in headless Chromium: a layer with an archive is read
from its .pmtiles file with range requests and drawn; a layer without one falls back to the live
tiles (/tiles/…). Both keep their attribution."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geodata.load import load_layer
from kaart.archives import build as builder
from kaart.archives import store
from kaart.config import Settings
from tests.conftest import browser_tab, serving
from tests.map_helpers import set_view
from tests.places import HET_GROTE_PLEIN
from tests.test_browser_layers import (
    BAG_ATTRIBUTION,
    LAYERS,
    WEESP_BAG,
    attribution,
    layer_checkbox,
    open_map,
    wait_for_paint,
)

pytestmark = pytest.mark.browser

ARCHIVE = re.compile(r"/tiles/archives/bag-panden-[0-9a-f]{16}\.pmtiles$")


@pytest.fixture(scope="module")
def archived_server(
    settings: Settings, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """BAG panden and addresses loaded; an archive for the panden only (built with two
    workers, each on its own connection); the app serving that archive directory."""
    for name, (_table, layer) in LAYERS.items():
        load_layer(engine, name, path=WEESP_BAG, layer=layer, force=True, progress=lambda _m: None)
    tiles_dir: Path = tmp_path_factory.mktemp("archives")
    readers = engine.execution_options(isolation_level="AUTOCOMMIT")
    report = builder.build(
        lambda: Session(readers), "bag-panden", tiles_dir, workers=2, progress=lambda _m: None
    )
    assert report.tiles > 10
    try:
        with serving(settings.replace(tiles_dir=tiles_dir)) as url:
            yield url
    finally:
        with engine.begin() as conn:
            for name, (table, _layer) in LAYERS.items():
                conn.execute(text(f"DROP TABLE open_data.{table}"))
                conn.execute(text("DELETE FROM layer WHERE name = :name"), {"name": name})


@pytest.fixture
def tab(browser, archived_server: str, clean_db) -> Iterator[Page]:
    with browser_tab(browser) as page:
        yield page


def test_the_map_reads_the_archive_with_range_requests_and_draws_it(
    tab: Page, archived_server: str
):
    requests: list[Request] = []
    tab.on("request", lambda r: requests.append(r))
    open_map(tab, archived_server)
    set_view(tab, HET_GROTE_PLEIN, 17)  # beyond the archive's z16: its tiles are scaled up
    assert wait_for_paint(tab, "bag-panden") > 1000
    expect(attribution(tab)).to_contain_text(BAG_ATTRIBUTION)

    reads = [r for r in requests if ARCHIVE.search(r.url)]
    assert reads, [r.url for r in requests]
    ranges = [r.headers.get("range", "") for r in reads]
    assert all(re.fullmatch(r"bytes=\d+-\d+", value) for value in ranges), ranges
    assert "bytes=0-16383" in ranges  # the header and root directory first
    assert len(set(ranges)) > 1  # then tile data, piece by piece
    assert all(r.response().status == 206 for r in reads)
    assert not [r.url for r in requests if "/tiles/bag-panden/" in r.url]  # no live tiles


def test_a_layer_without_an_archive_falls_back_to_live_tiles(tab: Page, archived_server: str):
    requests: list[str] = []
    tab.on("request", lambda r: requests.append(r.url))
    open_map(tab, archived_server)
    set_view(tab, HET_GROTE_PLEIN, 17)
    live = re.compile(r"/tiles/bag-adressen/17/\d+/\d+\.pbf")
    with tab.expect_response(live) as answer:
        layer_checkbox(tab, "Adressen (BAG)").check()
    assert answer.value.status == 200
    assert wait_for_paint(tab, "bag-adressen") > 100
    assert not [url for url in requests if "/tiles/archives/bag-adressen" in url]
    expect(attribution(tab)).to_contain_text(BAG_ATTRIBUTION)


def test_the_catalogue_the_page_was_given_names_the_archive(tab: Page, archived_server: str):
    open_map(tab, archived_server)
    layers = tab.evaluate("fetch('/api/v1/layers').then((r) => r.json())")["layers"]
    by_name = {layer["name"]: layer for layer in layers}
    assert ARCHIVE.search(by_name["bag-panden"]["archive"])
    assert by_name["bag-panden"]["archive"].startswith(store.URL_PREFIX)
    assert by_name["bag-panden"]["archive_zooms"] == [14, 16]
    assert by_name["bag-adressen"]["archive"] is None
