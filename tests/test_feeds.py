"""Atom feeds (kaart/views/public/feeds.py) on the Weesp seed: only what the public sees, no
personal data, the public place only, both languages, 404/410 like the pages, and a feed that
holds together as RFC 4287 asks (ids, titles, dates, links)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from tests.fixtures.outputs.seed import (
    ADMIN_EMAIL,
    HIDDEN_COMMENT_AUTHOR,
    PLANNER_EMAIL,
    PUBLIC_COMMENT_AUTHOR,
    Weesp,
    add_contribution,
    seed_weesp,
)
from tests.places import HET_GROTE_PLEIN, OUDE_CONVENT, cell_centre
from tests.test_pages import parse

A = "{http://www.w3.org/2005/Atom}"
GEORSS = "{http://www.georss.org/georss}point"
ATOM = "application/atom+xml; charset=utf-8"
WEESP_CENTRUM = "BU0363SD03"
SLUG = "groen-weesp-centrum"  # the seed's process
HOSTILE_TITLE = 'Bankje <b>"&" Co</b>'
HOSTILE_DESCRIPTION = "<script>alert('x')</script> & ]]> \n tweede regel"
PERSONAL = (PLANNER_EMAIL, ADMIN_EMAIL, "Petra Planner", HIDDEN_COMMENT_AUTHOR)


@pytest.fixture
def weesp(connection) -> Weesp:
    seed = seed_weesp(connection)
    # Withdrawn by its author: it leaves every feed (and its own answers 410).
    seed.ids["ingetrokken"] = add_contribution(
        connection,
        Point(HET_GROTE_PLEIN),
        category="speelplek",
        title="Ingetrokken wipwap",
        process_id=seed.process,
        created_at="2026-11-05 09:00+01",
    )
    connection.execute(
        text("UPDATE contribution SET withdrawn_at = now(), status = 'ingetrokken' WHERE id = :id"),
        {"id": seed.ids["ingetrokken"]},
    )
    return seed


def fetch(client, path: str, status: int = 200) -> ET.Element:
    r = client.get(path)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    assert r.headers["Content-Type"] == ATOM
    body = r.get_data(as_text=True)
    for personal in PERSONAL:
        assert personal not in body
    feed = ET.fromstring(r.data)
    assert_valid_atom(feed)
    return feed


def moment(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def one(element: ET.Element, tag: str) -> ET.Element:
    found = element.findall(A + tag)
    assert len(found) == 1, f"{len(found)} <{tag}> in <{element.tag}>"
    return found[0]


def assert_valid_atom(feed: ET.Element) -> None:
    """What RFC 4287 requires of a feed and its entries (section 4.1), checked by hand."""
    assert feed.tag == A + "feed"
    assert one(feed, "id").text.startswith(("urn:uuid:", "tag:"))
    assert one(feed, "title").text.strip()
    updated = moment(one(feed, "updated").text)
    assert one(one(feed, "author"), "name").text == "Wijkkaart"
    links = {link.get("rel"): link.get("href") for link in feed.findall(A + "link")}
    assert links["self"].startswith("http://localhost/")
    assert links["alternate"].startswith("http://localhost/")
    ids = []
    for entry in feed.findall(A + "entry"):
        ids.append(one(entry, "id").text)
        assert ids[-1].startswith("urn:uuid:")
        uuid.UUID(ids[-1].removeprefix("urn:uuid:"))
        assert one(entry, "title").text.strip()
        assert moment(one(entry, "updated").text) <= updated
        assert moment(one(entry, "published").text) <= moment(one(entry, "updated").text)
        link = one(entry, "link")
        assert link.get("rel") == "alternate"
        assert link.get("href").startswith("http://localhost/bijdragen/")
        assert one(entry, "content").get("type") == "text"
    assert len(ids) == len(set(ids)), "entry ids repeat"


def titles(feed: ET.Element) -> list[str]:
    return [one(entry, "title").text for entry in feed.findall(A + "entry")]


def buurt_name(connection, code: str = WEESP_CENTRUM) -> str:
    query = text("SELECT name FROM buurt WHERE code = :code")
    return connection.execute(query, {"code": code}).scalar_one()


# -- Lists: a buurt, a process, a category ---------------------------------------------------


def test_a_buurt_feed_lists_its_public_contributions_newest_first(client, connection, weesp):
    feed = fetch(client, f"/feeds/buurten/{WEESP_CENTRUM}.atom")
    assert one(feed, "title").text == f"Wijkkaart — buurt {buurt_name(connection)}"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "nl"
    # Hidden, pending (moderation), withdrawn and elsewhere (the Dam) never show.
    assert titles(feed) == [
        "Te hard rijden in de Nieuwstraat",
        "Schommel op Het Grote Plein",
        "Pluktuin op het Singel",
    ]
    entry = feed.find(A + "entry")
    assert one(entry, "id").text == f"urn:uuid:{weesp.ids['nieuwstraat']}"
    assert one(entry, "link").get("href") == (
        f"http://localhost/bijdragen/{weesp.ids['nieuwstraat']}?lang=nl"
    )
    assert one(entry, "category").attrib == {"term": "knelpunt", "label": "Knelpunt"}
    assert one(entry, "summary").text == '=HYPERLINK("http://example.com")'
    assert "Status: In behandeling" in one(entry, "content").text
    newest = max(moment(one(e, "updated").text) for e in feed.findall(A + "entry"))
    assert moment(one(feed, "updated").text) == newest


def test_a_process_feed_holds_the_published_contributions_of_the_process(client, weesp):
    feed = fetch(client, f"/feeds/trajecten/{SLUG}.atom")
    assert one(feed, "title").text == "Wijkkaart — traject ‘Groener Weesp Centrum’"
    ids = {one(e, "id").text for e in feed.findall(A + "entry")}
    assert ids == {f"urn:uuid:{weesp.ids[name]}" for name in Weesp.PUBLISHED_IN_PROCESS}
    links = {link.get("rel"): link.get("href") for link in feed.findall(A + "link")}
    assert links["alternate"] == f"http://localhost/trajecten/{SLUG}?lang=nl"
    assert links["self"] == f"http://localhost/feeds/trajecten/{SLUG}.atom?lang=nl"
    pluktuin = next(e for e in feed.findall(A + "entry") if "Pluktuin" in one(e, "title").text)
    content = one(pluktuin, "content").text
    assert "Status: Overgenomen" in content
    assert "Reactie van de gemeente: We leggen de pluktuin in het voorjaar" in content


def test_a_category_feed_holds_that_category_only(client, weesp):
    assert titles(fetch(client, "/feeds/categorieen/idee.atom")) == ["Bankjes op de Dam"]
    feed = fetch(client, "/feeds/categorieen/energie.atom")  # its only one is pending
    assert one(feed, "title").text == "Wijkkaart — categorie Energie"
    assert titles(feed) == []


def test_a_list_feed_holds_the_newest_fifty(client, connection):
    start = datetime.fromisoformat("2026-01-01T12:00:00+01:00")
    for n in range(55):
        created = (start + timedelta(days=n)).isoformat()
        add_contribution(
            connection,
            Point(OUDE_CONVENT),
            category="energie",
            title=f"Dak {n}",
            created_at=created,
        )
    names = titles(fetch(client, "/feeds/categorieen/energie.atom"))
    assert names == [f"Dak {n}" for n in range(54, 4, -1)]


def test_the_feed_shows_the_public_place_only(client, connection, weesp):
    """Without the address layer every point is generalised: the feed says where the public
    map shows it (the centre of its 50 m cell), never where it was drawn."""
    feed = fetch(client, "/feeds/categorieen/speelplek.atom")
    (entry,) = feed.findall(A + "entry")
    lat, lon = (float(v) for v in entry.find(GEORSS).text.split())
    public_lon, public_lat = cell_centre(HET_GROTE_PLEIN)
    assert (lat, lon) == pytest.approx((public_lat, public_lon), abs=1e-6)
    assert (lat, lon) != pytest.approx((HET_GROTE_PLEIN[1], HET_GROTE_PLEIN[0]), abs=1e-6)


def test_text_is_escaped_and_read_back_as_typed(client, connection):
    made = add_contribution(
        connection,
        Point(HET_GROTE_PLEIN),
        category="groen",
        title=HOSTILE_TITLE,
        description=HOSTILE_DESCRIPTION,
    )
    for path in ("/feeds/categorieen/groen.atom", f"/bijdragen/{made}/feed.atom"):
        r = client.get(path)
        assert b"<script>" not in r.data and b"<b>" not in r.data
        feed = ET.fromstring(r.data)
        assert one(feed.find(A + "entry"), "summary").text == HOSTILE_DESCRIPTION
    r = client.get(f"/bijdragen/{made}/feed.atom")
    assert one(ET.fromstring(r.data), "title").text == f"Wijkkaart — bijdrage ‘{HOSTILE_TITLE}’"
    entries = fetch(client, "/feeds/categorieen/groen.atom").findall(A + "entry")
    assert one(entries[0], "title").text == HOSTILE_TITLE


# -- One contribution's history --------------------------------------------------------------


def test_a_contribution_feed_is_its_public_history_newest_first(client, weesp):
    ident = weesp.ids["pluktuin"]
    feed = fetch(client, f"/bijdragen/{ident}/feed.atom")
    assert one(feed, "title").text == "Wijkkaart — bijdrage ‘Pluktuin op het Singel’"
    assert titles(feed) == ["Status: Ontvangen → Overgenomen", "Bijdrage ontvangen"]
    status, created = feed.findall(A + "entry")
    assert one(status, "summary").text == "We leggen de pluktuin aan."
    assert one(created, "summary").text.startswith("Fruitbomen en bessenstruiken")
    for entry in (status, created):
        assert one(entry, "link").get("href") == f"http://localhost/bijdragen/{ident}?lang=nl"
        assert one(entry, "id").text != f"urn:uuid:{ident}"  # an event, not the contribution
    again = fetch(client, f"/bijdragen/{ident}/feed.atom?lang=en")
    assert [one(e, "id").text for e in again.findall(A + "entry")] == [
        one(e, "id").text for e in feed.findall(A + "entry")
    ]
    assert one(again, "id").text == one(feed, "id").text


def test_no_personal_data_in_any_feed(client, weesp):
    """The planner who answered, e-mail addresses, comment authors: never in a feed."""
    paths = [
        f"/feeds/buurten/{WEESP_CENTRUM}.atom",
        f"/feeds/trajecten/{SLUG}.atom",
        *(f"/feeds/categorieen/{c}.atom" for c in ("groen", "speelplek", "knelpunt", "idee")),
        *(f"/bijdragen/{weesp.ids[n]}/feed.atom" for n in Weesp.PUBLISHED_IN_PROCESS),
    ]
    for path in paths:
        for lang in ("nl", "en"):
            body = client.get(f"{path}?lang={lang}").get_data(as_text=True)
            for personal in (*PERSONAL, PUBLIC_COMMENT_AUTHOR, "Bevat een persoonlijke aanval"):
                assert personal not in body, (path, personal)
            assert "@" not in body and "token" not in body.lower()


# -- Language, errors, caching ---------------------------------------------------------------


def test_feeds_speak_the_language_asked_for(client, connection, weesp):
    feed = fetch(client, f"/feeds/buurten/{WEESP_CENTRUM}.atom?lang=en")
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert one(feed, "title").text == f"Wijkkaart — neighbourhood {buurt_name(connection)}"
    entries = feed.findall(A + "entry")
    assert one(entries[-1], "category").get("label") == "Green space"
    assert one(entries[-1], "link").get("href").endswith("?lang=en")
    assert "Status: Adopted" in one(entries[-1], "content").text
    history = fetch(client, f"/bijdragen/{weesp.ids['pluktuin']}/feed.atom?lang=en")
    assert titles(history) == ["Status: Received → Adopted", "Contribution received"]
    category = fetch(client, "/feeds/categorieen/groen.atom?lang=en")
    assert one(category, "title").text == "Wijkkaart — category Green space"


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/buurten/BU0000XX99.atom",
        "/feeds/trajecten/bestaat-niet.atom",
        "/feeds/categorieen/bomen.atom",
        f"/bijdragen/{uuid.uuid4()}/feed.atom",
    ],
)
def test_unknown_things_have_no_feed(client, weesp, path):
    assert client.get(path).status_code == 404


def test_a_hidden_pending_or_withdrawn_contribution_has_no_feed(client, weesp):
    for name in ("verborgen", "wachtend"):
        assert client.get(f"/bijdragen/{weesp.ids[name]}/feed.atom").status_code == 404
    assert client.get(f"/bijdragen/{weesp.ids['ingetrokken']}/feed.atom").status_code == 410
    # A process is followed by its slug, as its page is found.
    assert client.get(f"/feeds/trajecten/{weesp.process}.atom").status_code == 404


def test_a_reader_that_has_the_feed_gets_304(client, weesp):
    first = client.get(f"/feeds/trajecten/{SLUG}.atom")
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    again = client.get(f"/feeds/trajecten/{SLUG}.atom", headers={"If-None-Match": tag})
    assert again.status_code == 304 and not again.data
    other = client.get(f"/feeds/trajecten/{SLUG}.atom?lang=en", headers={"If-None-Match": tag})
    assert other.status_code == 200


# -- The pages point at their feeds ----------------------------------------------------------


def alternate_links(html: str) -> list[str]:
    return [
        attrs["href"]
        for tag, attrs in parse(html).tags
        if tag == "link" and attrs.get("rel") == "alternate"
        if attrs.get("type") == "application/atom+xml" and attrs.get("title")
    ]


def test_the_contribution_page_links_its_feed(client, weesp):
    ident = weesp.ids["pluktuin"]
    html = client.get(f"/bijdragen/{ident}").get_data(as_text=True)
    assert alternate_links(html) == [f"/bijdragen/{ident}/feed.atom?lang=nl"]
    assert "Volg via Atom-feed" in html
    assert client.get(alternate_links(html)[0]).status_code == 200
    english = client.get(f"/bijdragen/{ident}?lang=en").get_data(as_text=True)
    assert "Follow via Atom feed" in english
    withdrawn = client.get(f"/bijdragen/{weesp.ids['ingetrokken']}").get_data(as_text=True)
    assert alternate_links(withdrawn) == []


def test_the_process_page_links_its_feed(client, weesp):
    html = client.get(f"/trajecten/{SLUG}").get_data(as_text=True)
    assert alternate_links(html) == [f"/feeds/trajecten/{SLUG}.atom?lang=nl"]
    assert 'id="process-feed"' in html
