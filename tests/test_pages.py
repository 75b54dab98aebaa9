"""The resident pages as the server renders them: config handed over as data, text escaped,
error pages, the language switch, and complete translations."""

from __future__ import annotations

import json
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kaart import i18n
from kaart.models.contribution import CATEGORIES, STATUSES
from tests.places import SINGEL_GRASVELD, feature, line, point, polygon

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1/contributions"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_DESCRIPTION = "<script>alert(2)</script>\nTweede regel"

# Every code the API can put in a field error (kaart/geo.py, kaart/services/input.py, api.py).
ERROR_CODES = [
    "malformed_json",
    "not_a_feature",
    "properties_not_object",
    "unknown_property",
    "category_missing",
    "category_unknown",
    "title_missing",
    "title_not_text",
    "title_too_long",
    "description_not_text",
    "description_too_long",
    "text_not_unicode",
    "text_control_chars",
    "geometry_missing",
    "geometry_type_not_allowed",
    "coordinates_not_array",
    "too_few_points",
    "position_length",
    "coordinate_not_number",
    "coordinate_not_finite",
    "coordinates_swapped",
    "coordinate_out_of_range",
    "outside_area",
    "ring_not_closed",
    "geometry_invalid",
    "area_too_large",
    "too_many_vertices",
    "crs_not_wgs84",
    "body_too_large",
    "unsupported_media_type",
    "constraint_violation",
    "nothing_to_change",
]


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def page_config(html: str) -> dict:
    scripts = [text for attrs, text in parse(html).scripts if attrs.get("id") == "kaart-config"]
    assert len(scripts) == 1
    return json.loads(scripts[0])


def create(client, body) -> dict:
    r = client.post(API, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# -- The map page -------------------------------------------------------------------------------


def test_map_page_hands_config_over_as_data_and_runs_no_inline_script(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    tags = parse(html)
    for attrs, text in tags.scripts:
        if attrs.get("type") == "application/json":
            continue
        assert attrs.get("src"), f"inline script: {text[:80]!r}"
        assert attrs["src"].startswith("/static/"), attrs["src"]
        assert not text.strip()
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    for tag, attrs in tags.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if tag in ("script", "link", "img", "iframe"):
                assert not value.startswith(("http:", "https:", "//")), f"<{tag} {name}={value}>"
    for cdn in ("unpkg", "cdnjs", "jsdelivr", "googleapis", "cloudflare"):
        assert cdn not in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]

    config = page_config(html)
    assert config["center"] == pytest.approx([52.3067, 5.0425])
    assert config["categories"] == list(CATEGORIES)
    assert config["basemapUrl"] == ""  # tests never leave this machine
    assert config["lang"] == "nl"
    assert config["messages"]["add.start"] == "Bijdrage toevoegen"
    assert [layer["attribution"] for layer in config["layers"]] == ["Buurten: Gemeente Amsterdam"]


def test_map_page_is_dutch_with_a_legend_of_five_categories_and_the_data_sources(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert 'href="#content"' in html and 'id="content"' in html  # skip link and its target
    for label in ("Groen", "Speelplek", "Energie", "Knelpunt", "Idee"):
        assert f'<span class="legend__label">{label}</span>' in html
    assert html.count('class="legend__checkbox"') == 5
    sources = html[html.index('<section class="sources"') :]
    sources = sources[: sources.index("</section>")]
    assert "Over de gegevens" in sources and "Buurten (Gemeente Amsterdam)" in sources
    assert "Licentie: Open data Gemeente Amsterdam" in sources
    for label in ("Punt", "Lijn", "Vlak", "Bestaat dit al?", "Gebruik het midden van de kaart"):
        assert label in html or label in page_config(html)["messages"].values()
    # Every form field has a label.
    for field in ("title", "description"):
        assert f'<label for="{field}"' in html


def test_map_page_has_the_layer_switcher_and_hands_over_tiles_zooms_and_columns(client):
    html = client.get("/").get_data(as_text=True)
    tags = parse(html)
    sources = [attrs.get("src") for tag, attrs in tags.tags if tag == "script"]
    assert "/static/vendor/protomaps/protomaps-leaflet.js" in sources
    with client.get("/static/vendor/protomaps/protomaps-leaflet.js") as r:
        assert r.status_code == 200
    assert 'id="layers"' in html and "Kaartlagen" in html
    # Layers are loaded, so the empty state is there for the script but hidden.
    empty = html[html.index('class="layers__empty') :]
    assert empty[: empty.index(">")].endswith("hidden")
    assert "Koppel aan een object op de kaart" in html  # the add form can link an object

    (buurten,) = page_config(html)["layers"]  # the contributions are markers, not a layer here
    assert buurten["name"] == "amsterdam-buurten" and buurten["kind"] == "area"
    assert buurten["tiles"] == "/tiles/amsterdam-buurten/{z}/{x}/{y}.pbf"
    assert buurten["features"] == "/api/v1/layers/amsterdam-buurten/features"
    assert 0 <= buurten["min_zoom"] <= buurten["max_zoom"] <= 22
    assert {"code", "name"} <= set(buurten["columns"])


# -- A contribution's page ----------------------------------------------------------------------


def _buurt_id(client) -> str:
    lon, lat = SINGEL_GRASVELD[0]
    bbox = f"{lon - 0.0001},{lat - 0.0001},{lon + 0.0001},{lat + 0.0001}"
    r = client.get(f"/api/v1/layers/amsterdam-buurten/features?bbox={bbox}&limit=1")
    return r.get_json()["features"][0]["properties"]["feature_id"]


def test_contribution_and_edit_pages_say_which_object_it_is_about(client):
    buurt = _buurt_id(client)
    about = {"layer": "amsterdam-buurten", "id": buurt}
    body = create(client, feature(point(SINGEL_GRASVELD[0]), title="Bankje", object=about))
    label = f"Gebied {buurt} (Buurten (Gemeente Amsterdam))"

    html = client.get(f"/bijdragen/{body['id']}").get_data(as_text=True)
    assert "<dt>Over</dt>" in html and f'<dd id="contribution-object">{label}</dd>' in html

    html = client.get(f"/bijdragen/{body['id']}/bewerken").get_data(as_text=True)
    assert f'<span class="object-choice__text" id="object-chosen-text">{label}</span>' in html
    assert 'id="object-chosen" >' in html  # shown, not hidden
    assert "Ander object kiezen" in html and "Koppeling verwijderen" in html

    plain = create(client, feature(point(SINGEL_GRASVELD[0]), title="Zonder object"))
    html = client.get(f"/bijdragen/{plain['id']}").get_data(as_text=True)
    assert "<dt>Over</dt>" not in html and 'id="contribution-object"' not in html
    html = client.get(f"/bijdragen/{plain['id']}/bewerken?lang=en").get_data(as_text=True)
    assert 'id="object-chosen" hidden' in html and "Link to an object on the map" in html


def test_contribution_page_escapes_hostile_text_and_keeps_line_breaks(client):
    body = create(client, feature(point(), title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION))
    r = client.get(f"/bijdragen/{body['id']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert HOSTILE_TITLE not in html
    assert "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert (
        '<div class="description">&lt;script&gt;alert(2)&lt;/script&gt;\nTweede regel</div>' in html
    )
    # The feature handed to the map script is JSON with <, > and & escaped.
    data = [text for attrs, text in parse(html).scripts if attrs.get("id") == "kaart-feature"]
    assert json.loads(data[0])["properties"]["title"] == HOSTILE_TITLE
    assert "\\u003cimg" in data[0]


def test_contribution_page_shows_category_status_buurt_date_and_measurement(client):
    body = create(client, feature(polygon(SINGEL_GRASVELD), category="groen", title="Pluktuin"))
    html = client.get(f"/bijdragen/{body['id']}").get_data(as_text=True)
    assert "<h1" in html and "Pluktuin" in html
    assert "Groen" in html and "Ontvangen" in html
    assert "Weesp Centrum" in html
    months = "januari februari maart april mei juni juli augustus september oktober november"
    assert re.search(rf"\d{{1,2}} ({months.replace(' ', '|')}|december) \d{{4}}", html)
    area = round(body["properties"]["area_m2"])
    assert f"{area:,}".replace(",", ".") + " m²" in html
    assert 'id="detail-map"' in html


def test_contribution_page_of_a_line_shows_its_length_in_english_too(client):
    body = create(client, feature(line(), category="knelpunt"))
    html = client.get(f"/bijdragen/{body['id']}?lang=en").get_data(as_text=True)
    assert "Problem spot" in html and "Received" in html and "Length" in html
    assert f"{round(body['properties']['length_m']):,} m" in html


def test_unknown_contribution_is_a_404_page(client):
    for path in (f"/bijdragen/{uuid.uuid4()}", "/bijdragen/not-a-uuid", "/nergens"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.mimetype == "text/html"
        html = r.get_data(as_text=True)
        assert "Pagina niet gevonden" in html
        assert "Over de gegevens" in html  # the base layout renders without map config
        assert "test-secret" not in html  # Flask's own `config` never reaches the page


def test_withdrawn_contribution_is_a_polite_410_page(client):
    body = create(client, feature(point()))
    r = client.delete(
        f"{API}/{body['id']}", headers={"Authorization": f"Bearer {body['edit_token']}"}
    )
    assert r.status_code == 204
    page = client.get(f"/bijdragen/{body['id']}")
    assert page.status_code == 410
    assert "Deze bijdrage is ingetrokken door de indiener." in page.get_data(as_text=True)
    edit = client.get(f"/bijdragen/{body['id']}/bewerken")
    assert edit.status_code == 410
    assert "Bijdrage ingetrokken" in edit.get_data(as_text=True)


def test_edit_page_is_prefilled_and_never_needs_the_token_on_the_server(client):
    body = create(client, feature(point(), category="speelplek", title="Schommel <3"))
    html = client.get(f"/bijdragen/{body['id']}/bewerken").get_data(as_text=True)
    assert 'value="Schommel &lt;3"' in html
    assert re.search(r'value="speelplek"\s+aria-describedby="category-error" checked', html)
    assert body["edit_token"] not in html
    assert "Intrekken" in html and "Opslaan" in html


# -- Language -----------------------------------------------------------------------------------


def test_language_switch_changes_texts_and_is_remembered(client):
    dutch = client.get("/").get_data(as_text=True)
    assert 'href="?lang=en"' in dutch and "Bijdrage toevoegen" in dutch

    r = client.get("/?lang=en")
    html = r.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Add a contribution" in html and "Bijdrage toevoegen" not in html
    assert "kaart_lang=en" in r.headers["Set-Cookie"]
    assert page_config(html)["messages"]["category.knelpunt"] == "Problem spot"

    again = client.get("/").get_data(as_text=True)  # the cookie remembers
    assert "Add a contribution" in again and 'href="?lang=nl"' in again

    back = client.get("/?lang=nl").get_data(as_text=True)
    assert "Bijdrage toevoegen" in back


def catalogue(lang: str) -> dict[str, str]:
    return i18n.catalogue(lang)


def test_dutch_and_english_catalogues_have_the_same_keys_and_no_empty_texts():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    assert all(isinstance(v, str) and v.strip() for v in [*nl.values(), *en.values()])
    for key in nl:  # the same placeholders in both languages
        assert set(re.findall(r"\{(\w+)\}", nl[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_text_the_pages_and_scripts_use_is_translated():
    keys = set(catalogue("nl"))
    used = set()
    for path in (ROOT / "templates").rglob("*.html"):
        used |= set(re.findall(r"""_\(\s*['"]([a-z0-9_.]+)['"]""", path.read_text()))
    namespaces = {key.split(".")[0] for key in keys}
    for path in (ROOT / "static" / "js").rglob("*.js"):
        literals = re.findall(r'"([a-z]+(?:\.[a-z0-9_]+)+)"', path.read_text())
        used |= {s for s in literals if s.split(".")[0] in namespaces}
    used = {key for key in used if not key.endswith(".")}  # prefixes of the families below
    used |= {f"category.{c}" for c in CATEGORIES}
    used |= {f"status.{s}" for s in STATUSES} | {f"status.{s}.explain" for s in STATUSES}
    used |= {f"error.{code}" for code in ERROR_CODES}
    used |= {f"error.status_{s}" for s in (400, 401, 403, 404, 410, 413, 415, 429, 500, 503)}
    for shape in ("point", "line", "area"):
        used |= {f"add.shape.{shape}", f"add.shape.{shape}_hint", f"add.draw.{shape}.title"}
        used.add(f"add.draw.{shape}.instructions")
    used |= {f"month.{m}" for m in range(1, 13)}
    missing = sorted(used - keys)
    assert not missing, f"not in the catalogue: {missing}"
    assert catalogue("nl")["category.groen"] == "Groen"
    assert catalogue("en")["category.speelplek"] == "Playground"


def test_the_accessibility_statement_says_what_is_tested_and_how_to_reach_us(client):
    html = client.get("/toegankelijkheid").get_data(as_text=True)
    assert '<h1 class="page-title">Toegankelijkheidsverklaring</h1>' in html
    assert "WCAG 2.1" in html and "axe-core" in html and "PDF/UA" in html
    assert "Punt zetten in het midden van de kaart" in html  # the button's own name
    english = client.get("/toegankelijkheid?lang=en").get_data(as_text=True)
    assert (
        "Accessibility statement" in english and "Add a point at the centre of the map" in english
    )
    # Every page's footer links to it, next to the privacy statement.
    assert 'id="accessibility-link" href' not in html
    assert 'href="/toegankelijkheid" id="accessibility-link"' in client.get("/").get_data(
        as_text=True
    )


def test_one_is_singular_in_both_languages(app):
    from kaart.i18n import translate

    for lang, one, many in (
        ("en", "1 contribution was published.", "3 contributions were published."),
        ("nl", "Er is 1 bijdrage gepubliceerd.", "Er zijn 3 bijdragen gepubliceerd."),
    ):
        with app.test_request_context(f"/?lang={lang}"):
            assert translate("outputs.reactienota.total", count=1) == one
            assert translate("outputs.reactienota.total", count=3) == many
            assert translate("outputs.reactienota.total", count=0).startswith(("0", "Er zijn 0"))
