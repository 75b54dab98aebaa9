"""The initiative and adoption pages for tests/test_browser_axe.py: rows in the live database
with fixed ids (an initiative with a volunteer, an offered adoption of a BGT green area) and the
views to check, as (path, role, state, prepare) tuples."""

from __future__ import annotations

import hashlib
import uuid

from playwright.sync_api import Page, expect
from psycopg import sql
from sqlalchemy import Connection, text

from kaart.services.initiative_mail import CONFIRM, stop_token
from tests.adoption_fixtures import GREEN_ID, GREEN_LAYER, TREE_LAYER, make_green

INITIATIVE = uuid.UUID("3a7e0c1d-9f7b-4d7e-8c44-000000000a11")
PARTICIPANT = uuid.UUID("3a7e0c1d-9f7b-4d7e-8c44-000000000a12")
TOKEN = "axe-initiative-token-0123456789abcdef"
SECRET = "test-secret"  # the live server's


def seed(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO initiative (id, title, description, geom, edit_token_hash, start_date) "
            "VALUES (:id, 'Geveltuinen in de Nieuwstraat', 'Samen de straat groener maken.', "
            "ST_SetSRID(ST_MakePoint(5.04234, 52.30658), 4326), :h, '2027-04-01')"
        ),
        {"id": INITIATIVE, "h": hashlib.sha256(TOKEN.encode()).digest()},
    )
    conn.execute(
        text(
            "INSERT INTO initiative_need (initiative_id, kind, description, amount, unit) "
            "VALUES (:id, 'hands', 'Mensen die willen planten', 6, NULL), "
            "(:id, 'money', 'Plantjes', 250, 'euro')"
        ),
        {"id": INITIATIVE},
    )
    conn.execute(
        text(
            "INSERT INTO initiative_event (initiative_id, action, to_status, to_visibility) "
            "VALUES (:id, 'created', 'idee', 'published')"
        ),
        {"id": INITIATIVE},
    )
    conn.execute(
        text("INSERT INTO initiative_update (initiative_id, text) VALUES (:id, 'We beginnen!')"),
        {"id": INITIATIVE},
    )
    address = conn.execute(
        text("INSERT INTO mail_address (address) VALUES ('axe-doet-mee@example.nl') RETURNING id")
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO initiative_participant (id, initiative_id, name, address_id) "
            "VALUES (:p, :id, 'Sanne', :a)"
        ),
        {"p": PARTICIPANT, "id": INITIATIVE, "a": address},
    )
    make_green(conn)
    conn.execute(
        text(
            "INSERT INTO adoption (layer, feature_id, geom, group_name, activities, frequency) "
            "VALUES (:l, :f, ST_SetSRID(ST_MakePoint(5.0379, 52.3067), 4326), "
            "'Groene Vingers', 'Wieden', 'maandelijks')"
        ),
        {"l": GREEN_LAYER, "f": GREEN_ID},
    )


def clean(conn: Connection) -> None:
    conn.execute(text("DELETE FROM initiative"))
    conn.execute(text("DELETE FROM mail_address WHERE address = 'axe-doet-mee@example.nl'"))
    conn.execute(text("DELETE FROM adoption"))
    for name in (GREEN_LAYER, TREE_LAYER):
        table = sql.Identifier("open_data", name.replace("-", "_")).as_string(None)
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text("DELETE FROM layer WHERE name = :n"), {"n": name})


def place_map_ready(page: Page) -> None:
    expect(page.locator("#initiative-map.leaflet-container")).to_be_visible()


def join_errors(page: Page) -> None:
    page.locator("#join-form button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_visible()


VIEWS = [
    ("/initiatieven", None, "initiatives: the list", None),
    (f"/initiatieven/{INITIATIVE}", None, "an initiative with needs and timeline", None),
    (f"/initiatieven/{INITIATIVE}", None, "an initiative: join form errors", join_errors),
    ("/initiatieven/nieuw", None, "starting an initiative: the place on a map", place_map_ready),
    (
        lambda i: f"/initiatieven/nieuw?bijdrage={i.contribution}",
        None,
        "starting an initiative from a contribution",
        None,
    ),
    (f"/initiatieven/{INITIATIVE}/beheer/{TOKEN}", None, "the initiator's private page", None),
    (
        f"/initiatieven/afmelden/{stop_token(PARTICIPANT, SECRET)}",
        None,
        "a joiner stops the news",
        None,
    ),
    (
        f"/initiatieven/bevestigen/{stop_token(PARTICIPANT, SECRET, CONFIRM)}",
        None,
        "a joiner confirms the address for news",
        None,
    ),
    (f"/adopteren?layer={GREEN_LAYER}&feature={GREEN_ID}", None, "offering to adopt", None),
    ("/beheer/adopties", "planner", "adoptions to decide", None),
    ("/beheer/initiatieven", "moderator", "initiatives for moderation", None),
    (f"/beheer/initiatieven/{INITIATIVE}", "moderator", "one initiative for moderation", None),
]
