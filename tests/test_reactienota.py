"""The reactienota of a process: HTML and PDF with question, period, figures, an offline map and
every published contribution grouped by theme and buurt with its response."""

from __future__ import annotations

import base64
import io
import re
import uuid
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject

from kaart.services import reactienota
from tests.fixtures.outputs.seed import add_process, log_in, seed_weesp

PUBLISHED = (
    "Pluktuin op het Singel",
    "Schommel op Het Grote Plein",
    "Te hard rijden in de Nieuwstraat",
)
NOT_IN_REPORT = ("Verborgen bijdrage", "Zonnepanelen op het Oude Convent", "Bankjes op de Dam")


@pytest.fixture
def weesp(connection):
    return seed_weesp(connection)


@pytest.fixture
def planner(client, weesp):
    log_in(client, weesp.planner)
    return client


def url(weesp, suffix: str = "") -> str:
    return f"/beheer/reactienota/{weesp.process}{suffix}"


def test_only_staff_may_produce_it(client, weesp):
    for suffix in ("", ".pdf"):
        assert client.get(url(weesp, suffix)).status_code == 302
        log_in(client, weesp.coop)
        assert client.get(url(weesp, suffix)).status_code == 403
        client.get("/?lang=nl")
        with client.session_transaction() as session:
            session.clear()
    log_in(client, weesp.moderator)
    assert client.get(url(weesp)).status_code == 200


def test_unknown_process_is_a_404(planner):
    assert planner.get(f"/beheer/reactienota/{uuid.uuid4()}").status_code == 404
    assert planner.get("/beheer/reactienota/geen-id.pdf").status_code == 404


def test_html_has_question_period_figures_and_the_published_input_only(planner, weesp):
    r = planner.get(url(weesp))
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<h1 id="reactienota-title">Groener Weesp Centrum</h1>' in html
    assert "Waar wilt u meer groen en speelruimte in Weesp Centrum?" in html
    assert "Participatieperiode: 1 september 2026 tot en met 31 december 2026" in html
    assert "Er zijn 3 bijdragen gepubliceerd." in html
    assert "Overgenomen of gerealiseerd: 1." in html
    assert "2 bijdragen zijn niet gepubliceerd" in html
    for title in PUBLISHED:
        assert html.count(f'<p class="item__title">{title}</p>') == 1
    for title in NOT_IN_REPORT:
        assert title not in html
    assert html.count('<article class="item"') == 3
    # Per buurt: all three lie in Weesp Centrum.
    assert re.search(r"Weesp Centrum</th><td class=\"num\">3</td>", html)
    # The map is an embedded PNG (the page and the PDF fetch nothing).
    match = re.search(r'<img id="reactienota-map" src="data:image/png;base64,([^"]+)"', html)
    assert match
    with Image.open(io.BytesIO(base64.b64decode(match.group(1)))) as image:
        assert image.format == "PNG" and image.width > 600


def test_items_are_grouped_by_theme_then_buurt_with_response_support_and_adoption(planner, weesp):
    html = planner.get(url(weesp)).get_data(as_text=True)
    body = html[html.index('id="input-title"') :]
    positions = [body.index(f"<h3>{theme}</h3>") for theme in ("Groen", "Speelplek", "Knelpunt")]
    assert positions == sorted(positions)  # the order of the categories
    assert "<h3>Idee</h3>" not in body and "<h3>Energie</h3>" not in body
    assert body.count("<h4>Weesp Centrum</h4>") == 3

    pluktuin = body[body.index("Pluktuin op het Singel") :]
    pluktuin = pluktuin[: pluktuin.index("</article>")]
    assert "Overgenomen ·" in pluktuin and "7 keer gesteund" in pluktuin
    assert "We leggen de pluktuin in het voorjaar van 2027 aan." in pluktuin
    assert '<span class="adopted">Overgenomen: ja</span>' in pluktuin

    schommel = body[body.index("Schommel op Het Grote Plein") :]
    schommel = schommel[: schommel.index("</article>")]
    assert "Overgenomen: nee (of nog niet)" in schommel
    assert "Het plein is te klein voor een veilige valzone." in schommel

    straat = body[body.index("Te hard rijden in de Nieuwstraat") :]
    straat = straat[: straat.index("</article>")]
    assert "Nog geen reactie." in straat and "In behandeling" in straat


def structure_elements(node, found=None) -> list:
    """Every element of a tagged PDF's structure tree, depth first."""
    found = [] if found is None else found
    node = node.get_object()
    if isinstance(node, list | ArrayObject):
        for kid in node:
            structure_elements(kid, found)
        return found
    if not hasattr(node, "get") or ("/S" not in node and "/K" not in node):
        return found
    if "/S" in node:
        found.append(node)
    if "/K" in node:
        structure_elements(node["/K"], found)
    return found


def test_the_pdf_is_tagged_for_screen_readers(planner, weesp):
    """PDF/UA-1: marked content with a structure tree, the language, the title shown as the
    window title, headings and a figure whose alternative text describes the map."""
    reader = PdfReader(io.BytesIO(planner.get(url(weesp, ".pdf")).data))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]) == "nl"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert "Groener Weesp Centrum" in reader.metadata.title
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    elements = structure_elements(root["/StructTreeRoot"])
    kinds = {str(e["/S"]) for e in elements}
    assert {"/H1", "/H2", "/P", "/Figure"} <= kinds, kinds
    (figure,) = [e for e in elements if e["/S"] == "/Figure"]
    assert "bijdragen" in str(figure["/Alt"])
    english = PdfReader(io.BytesIO(planner.get(url(weesp, ".pdf") + "?lang=en").data))
    assert str(english.trailer["/Root"]["/Lang"]) == "en"


def test_english_reactienota(planner, weesp):
    html = planner.get(url(weesp) + "?lang=en").get_data(as_text=True)
    assert "3 contributions were published." in html and "Response of the municipality" in html


def test_pdf_has_every_published_contribution_and_the_map_image(planner, weesp):
    r = planner.get(url(weesp, ".pdf"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"] == (
        'attachment; filename="reactienota-groen-weesp-centrum.pdf"'
    )
    assert r.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(r.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert "Groener Weesp Centrum" in flat
    assert "Er zijn 3 bijdragen gepubliceerd." in flat
    for title in PUBLISHED:
        assert flat.count(title) == 1, title
    for title in NOT_IN_REPORT:
        assert title not in flat
    assert flat.count("Reactie van de gemeente") == 3
    # WeasyPrint shares one resource dictionary between pages: count distinct images.
    images = {image.data for page in reader.pages for image in page.images}
    assert len(images) == 1  # the map
    with Image.open(io.BytesIO(images.pop())) as picture:
        assert picture.width > 600 and picture.height > 400


def test_the_map_shows_the_area_and_each_theme_in_its_colour(connection, weesp):
    labels = {f"category.{c}": c for c in ("groen", "speelplek", "energie", "knelpunt", "idee")}
    labels |= {"no_buurt": "-", "area": "Gebied"}
    report = reactienota.build(connection_session(connection), weesp.process, labels)
    with Image.open(io.BytesIO(report.map_png)) as image:
        colours = {rgb for _count, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    for hex_colour in ("#2e7d32", "#6a1b9a", "#c62828", "#154273"):  # groen, speelplek, knelpunt
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert any(sum(abs(a - b) for a, b in zip(rgb, c, strict=True)) < 30 for c in colours), (
            hex_colour
        )


def connection_session(connection):
    from sqlalchemy.orm import Session

    return Session(bind=connection, join_transaction_mode="create_savepoint")


def test_a_process_without_input_still_has_a_report_and_a_map(planner, connection, weesp):
    empty = add_process(
        connection,
        slug="stil-traject",
        title="Stil traject",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 2, 1),
    )
    html = planner.get(f"/beheer/reactienota/{empty}").get_data(as_text=True)
    assert "Er zijn 0 bijdragen gepubliceerd." in html
    assert 'id="reactienota-empty"' in html and 'id="reactienota-map"' in html
    pdf = planner.get(f"/beheer/reactienota/{empty}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_the_pdf_renderer_fetches_nothing_but_data_uris():
    html = (
        '<html><body><p>Kaart</p><img src="http://192.0.2.1/tile.png">'
        '<img src="file:///etc/passwd"></body></html>'
    )
    reader = PdfReader(io.BytesIO(reactienota.pdf(html)))
    assert "Kaart" in reader.pages[0].extract_text()
    assert len(list(reader.pages[0].images)) == 0


@pytest.fixture
def committed_weesp(engine):
    """The Weesp process committed, for the command line (its own connection); removed after."""
    from sqlalchemy import text

    with engine.begin() as conn:
        seed = seed_weesp(conn)
    yield seed
    with engine.begin() as conn:
        for table in ("contribution", "process", "app_user"):
            conn.execute(text(f"DELETE FROM {table}"))


def test_the_command_line_writes_the_pdf_and_html(committed_weesp, database_url, tmp_path):
    from click.testing import CliRunner

    from kaart.cli import main

    env = {"KAART_DATABASE_URL": database_url, "KAART_BASEMAP_URL": ""}
    runner = CliRunner()
    pdf = tmp_path / "nota.pdf"
    result = runner.invoke(main, ["reactienota", "groen-weesp-centrum", "-o", str(pdf)], env=env)
    assert result.exit_code == 0, result.output
    assert "Groener Weesp Centrum, 3 contributions" in result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert all(title in " ".join(text.split()) for title in PUBLISHED)

    html = tmp_path / "nota.html"
    args = ["reactienota", str(committed_weesp.process), "-o", str(html), "--lang", "en"]
    assert runner.invoke(main, args, env=env).exit_code == 0
    assert "3 contributions were published." in html.read_text(encoding="utf-8")

    unknown = runner.invoke(main, ["reactienota", "geen-traject", "-o", str(pdf)], env=env)
    assert unknown.exit_code != 0 and "there is no process 'geen-traject'" in unknown.output
    wrong = runner.invoke(main, ["reactienota", "groen-weesp-centrum", "-o", "x.docx"], env=env)
    assert wrong.exit_code != 0 and ".pdf or .html" in wrong.output
