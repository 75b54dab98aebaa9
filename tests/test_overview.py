"""/beheer/overzicht: who may see it, what the filters select, the counts, and the folium
choropleth that loads nothing from another host."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from shapely.geometry import box

from tests.fixtures.outputs.seed import add_contribution, log_in, seed_weesp
from tests.layers_fixture import make_layer

OVERVIEW = "/beheer/overzicht"
MAP = "/beheer/overzicht/kaart"
WEESP_CENTRUM = "BU0363SD03"


@pytest.fixture
def weesp(connection):
    return seed_weesp(connection)


@pytest.fixture
def planner(client, weesp):
    log_in(client, weesp.planner)
    return client


def total(html: str) -> int:
    match = re.search(r'id="overview-total">(\d+) bijdragen', html)
    assert match, "no total on the page"
    return int(match.group(1))


def table_titles(html: str) -> list[str]:
    table = html[html.index('id="overview-table"') :] if 'id="overview-table"' in html else ""
    return re.findall(r'<a href="/beheer/bijdragen/[0-9a-f-]+">([^<]+)</a>', table)


# -- Who may enter ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [OVERVIEW, MAP])
def test_staff_roles_get_in_others_are_sent_to_login_or_refused(client, weesp, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/inloggen" in anonymous.headers["Location"]
    log_in(client, weesp.coop)
    assert client.get(path).status_code == 403
    for user in (weesp.planner, weesp.moderator, weesp.admin):
        log_in(client, user)
        assert client.get(path).status_code == 200


# -- Filters and counts -------------------------------------------------------------------------


def test_without_filters_staff_see_every_visibility_but_never_withdrawn(planner, weesp):
    html = planner.get(OVERVIEW).get_data(as_text=True)
    assert total(html) == 6
    titles = table_titles(html)
    assert titles[0] == "Zonnepanelen op het Oude Convent"  # newest first
    assert {"Verborgen bijdrage", "Bankjes op de Dam", "Pluktuin op het Singel"} <= set(titles)
    assert "Verborgen" in html and "Wacht op moderatie" in html  # visibility chips
    counts = html[html.index('id="counts-category"') :]
    assert re.search(r"Groen</th><td class=\"num\">1</td>", counts)
    assert re.search(r"Idee</th><td class=\"num\">2</td>", counts)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=idee", {"Verborgen bijdrage", "Bankjes op de Dam"}),
        (
            "category=groen&category=speelplek",
            {"Pluktuin op het Singel", "Schommel op Het Grote Plein"},
        ),
        ("status=overgenomen", {"Pluktuin op het Singel"}),
        (
            "visibility=hidden&visibility=pending",
            {"Verborgen bijdrage", "Zonnepanelen op het Oude Convent"},
        ),
        ("buurt=BU0363SD03&category=idee", {"Verborgen bijdrage"}),
        (
            "from=2026-10-01&to=2026-11-02",
            {"Schommel op Het Grote Plein", "Te hard rijden in de Nieuwstraat"},
        ),
        ("q=pluktuin", {"Pluktuin op het Singel"}),
        ("q=BESSEN", {"Pluktuin op het Singel"}),  # the description, any case
        ("q=100%25", set()),  # % is a character, not a wildcard
    ],
)
def test_filters_select_the_table_and_the_counts(planner, query, expected):
    html = planner.get(f"{OVERVIEW}?{query}").get_data(as_text=True)
    assert set(table_titles(html)) == expected
    assert total(html) == len(expected)
    if not expected:
        assert 'id="overview-empty"' in html and "Geen bijdragen met deze filters" in html


def test_the_process_filter_leaves_out_the_open_map(planner, weesp):
    html = planner.get(f"{OVERVIEW}?process={weesp.process}").get_data(as_text=True)
    assert total(html) == 5 and "Bankjes op de Dam" not in table_titles(html)
    # The filters are handed on to the map, the exports and kept in the form.
    assert f'src="/beheer/overzicht/kaart?process={weesp.process}"' in html
    assert f'href="/beheer/export.csv?process={weesp.process}"' in html
    assert f'<option value="{weesp.process}" selected>Groener Weesp Centrum</option>' in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=bos", "category"),
        ("status=ingetrokken", "status"),
        ("from=1-1-2026", "from"),
        ("from=2026-12-01&to=2026-11-01", "to"),
        ("process=traject-1", "process"),
        ("buurt=Weesp", "buurt"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_filters_are_a_400(planner, query, field):
    r = planner.get(f"{OVERVIEW}?{query}")
    assert r.status_code == 400
    export = planner.get(f"/beheer/export.geojson?{query}")
    assert export.status_code == 400


def test_the_page_is_dutch_first_and_english_on_request(planner):
    html = planner.get(OVERVIEW).get_data(as_text=True)
    assert "Overzicht van de bijdragen" in html and "Filter toepassen" in html
    english = planner.get(f"{OVERVIEW}?lang=en").get_data(as_text=True)
    assert "Overview of contributions" in english and "Apply filters" in english
    for field in ("filter-process", "filter-buurt", "filter-from", "filter-to", "filter-q"):
        assert f'<label class="label" for="{field}"' in html


def test_hostile_titles_are_escaped_on_the_page_and_in_the_map(planner, connection, weesp):
    hostile = '<img src=x onerror=alert(1)>"'
    add_contribution(connection, box(5.0400, 52.3060, 5.0402, 52.3062), title=hostile)
    html = planner.get(OVERVIEW).get_data(as_text=True)
    assert hostile not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    page = planner.get(MAP).get_data(as_text=True)
    assert "<img src=x" not in page
    # folium's tooltip sets innerHTML: the title reaches it HTML-escaped (inside JSON).
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page or "&lt;img" in page


# -- The choropleth -----------------------------------------------------------------------------


class Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.urls.append((tag, attrs[name]))
        self._in_script = tag == "script" and not attrs.get("src")
        if self._in_script:
            self.inline.append("")

    def handle_data(self, data):
        if self._in_script:
            self.inline[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def external_urls(html: str) -> list[str]:
    """Every http(s) or protocol-relative URL in the page (there must be none). An XML namespace
    (the SVG favicon's xmlns) names a vocabulary and is never fetched, so it does not count."""
    html = re.sub(r"xmlns=['\"]http://www\.w3\.org/2000/svg['\"]", "", html)
    return re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'<>]*", html, re.IGNORECASE)


def test_the_map_page_loads_only_self_hosted_files_and_runs_only_its_hashed_scripts(planner):
    r = planner.get(MAP)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert external_urls(html) == []
    for cdn in ("jsdelivr", "cdnjs", "jquery", "bootstrap", "fontawesome", "unpkg"):
        assert cdn not in html.lower()
    parsed = Resources()
    parsed.feed(html)
    assert ("script", "/static/vendor/leaflet/leaflet.js") in parsed.urls
    assert ("link", "/static/vendor/leaflet/leaflet.css") in parsed.urls
    assert ("link", "data:,") in parsed.urls  # an empty icon: no request for /favicon.ico
    for _tag, url in parsed.urls:
        if url == "data:,":
            continue
        assert url.startswith("/static/vendor/"), url
        with planner.get(url) as asset:
            assert asset.status_code == 200, url

    csp = r.headers["Content-Security-Policy"]
    assert "http" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'self'" in csp and r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert parsed.inline, "folium writes its map as inline script"
    for body in parsed.inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "L.map(" in html and "Weesp Centrum" in html


def test_the_overview_page_has_no_url_to_another_host_and_frames_the_map(planner):
    r = planner.get(OVERVIEW)
    html = r.get_data(as_text=True)
    assert external_urls(html) == []
    assert '<iframe class="overview-map__frame" id="overview-map"' in html
    assert 'title="Kaart: bijdragen per buurt"' in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"].split("style-src")[0]


def test_without_population_the_choropleth_counts_contributions(planner):
    html = planner.get(OVERVIEW).get_data(as_text=True)
    legend = html[html.index('id="overview-legend"') :]
    assert "Aantal bijdragen per buurt" in legend and "geen inwonertallen" in legend
    figures = html[html.index('id="buurt-figures"') :]
    assert re.search(r"Weesp Centrum</th><td class=\"num\">5</td><td class=\"num\">–", figures)


def test_with_cbs_population_the_choropleth_is_per_1000_inhabitants(planner, connection):
    # CBS wijken en buurten carries `inhabitants`; the buurt outline does not matter here.
    rows = [
        {
            "feature_id": WEESP_CENTRUM,
            "geom": box(0, 0, 1, 1),
            "code": WEESP_CENTRUM,
            "inhabitants": 2500,
        },
        {
            "feature_id": "BU0363AA01",
            "geom": box(2, 2, 3, 3),
            "code": "BU0363AA01",
            "inhabitants": 4000,
        },
    ]
    columns = {"code": "text", "inhabitants": "bigint"}
    make_layer(connection, "cbs-buurten", rows, columns=columns, kind="area")

    html = planner.get(f"{OVERVIEW}?buurt={WEESP_CENTRUM}").get_data(as_text=True)
    legend = html[html.index('id="overview-legend"') :]
    assert "Bijdragen per 1.000 inwoners" in legend
    figures = html[html.index('id="buurt-figures"') :]
    # 5 contributions for 2,500 inhabitants: 2.0 per 1,000.
    assert re.search(
        r"Weesp Centrum</th><td class=\"num\">5</td><td class=\"num\">2.500</td>"
        r"<td class=\"num\">2.0</td>",
        figures,
    )
    page = planner.get(f"{MAP}?buurt={WEESP_CENTRUM}").get_data(as_text=True)
    assert '"per_1000": "2.0"' in page


def test_an_empty_selection_still_draws_a_map_without_buurten(planner):
    r = planner.get(f"{MAP}?q=niets-dat-bestaat")
    assert r.status_code == 200 and "L.map(" in r.get_data(as_text=True)


def test_a_folium_element_that_wants_a_cdn_resource_is_an_error_not_a_request():
    import folium
    from folium.plugins import Fullscreen

    from kaart.services.overview_map import self_host

    fmap = folium.Map(location=[52.3067, 5.0425], tiles=None)
    self_host(fmap)
    assert fmap.default_js == [("leaflet", "/static/vendor/leaflet/leaflet.js")]
    assert folium.Map.default_js[0][1].startswith("https://")  # folium's own list untouched
    Fullscreen().add_to(fmap)
    with pytest.raises(RuntimeError, match="not self-hosted"):
        self_host(fmap)


def test_legend_classes_for_counts_and_rates():
    from kaart.services.overview import BuurtFigure
    from kaart.services.overview_map import EMPTY_FILL, PALETTE, colour_of, legend_for

    counts = legend_for([BuurtFigure("BU1", "A", 3, None), BuurtFigure("BU2", "B", 1, 900)])
    assert not counts.per_1000  # one buurt without population: absolute counts for all
    assert [label for _high, _colour, label in counts.classes] == ["1", "2", "3"]
    assert [colour for _high, colour, _label in counts.classes] == list(PALETTE[2:])
    assert (
        colour_of(3, counts.classes) == PALETTE[-1] and colour_of(1, counts.classes) == PALETTE[2]
    )
    assert colour_of(0, counts.classes) == EMPTY_FILL

    many = legend_for([BuurtFigure("BU1", "A", 23, None)])
    assert [label for *_rest, label in many.classes] == [
        "1 – 5",
        "6 – 9",
        "10 – 14",
        "15 – 18",
        "19 – 23",
    ]

    rates = legend_for([BuurtFigure("BU1", "A", 5, 2500), BuurtFigure("BU2", "B", 1, 4000)])
    assert rates.per_1000 and len(rates.classes) == 5
    assert rates.classes[-1][2] == "1.6 – 2.0"
    assert colour_of(2.0, rates.classes) == PALETTE[-1]
    assert colour_of(0.25, rates.classes) == PALETTE[0]
    assert legend_for([]).classes == []
