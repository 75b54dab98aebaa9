"""The demo's initiative and adoption (`kaart demo load`): a pluktuin that grew from the demo
contribution about the Singel, with two volunteers and one update, and a group that looks after
a plantsoen near it. Fixed ids, so loading again adds nothing. Fictional people, no addresses."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from kaart.services import initiative_workflow, initiatives
from kaart.services.initiative_input import InitiativeInput, JoinInput, Need

INITIATIVE_ID = uuid.UUID("6f0c2a52-4c1e-4f4e-9a47-2d4b8e0a1001")
ADOPTION_ID = uuid.UUID("6f0c2a52-4c1e-4f4e-9a47-2d4b8e0a2001")
PLUKTUIN = uuid.UUID("6f0c2a52-4c1e-4f4e-9a47-2d4b8e0a0007")  # "Pluktuin langs het Singel"
# A demo stand-in for a BGT object: the demo area has no BGT layer loaded.
DEMO_LAYER, DEMO_FEATURE = "demo-groen", "plantsoen-singel"
PLANTSOEN_WKT = (
    "POLYGON((5.0376 52.3065, 5.0382 52.3065, 5.0382 52.30685, 5.0376 52.30685, 5.0376 52.3065))"
)


def load(session: Session, say: Callable[[str], None] = lambda _m: None) -> None:
    """Add the demo initiative and adoption when they are not there yet (and the demo
    contribution they build on is)."""
    if _missing(session, "initiative", INITIATIVE_ID) and not _missing(
        session, "contribution", PLUKTUIN
    ):
        _initiative(session)
        say(f"demo initiative: /initiatieven/{INITIATIVE_ID}")
    if _missing(session, "adoption", ADOPTION_ID):
        _adoption(session)
        say("demo adoption: Buurtgroep Groen Singel")


def _missing(session: Session, table: str, ident: uuid.UUID) -> bool:
    assert table in ("initiative", "adoption", "contribution")  # our own names only
    found = session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": ident}).first()
    return found is None


def _initiative(session: Session) -> None:
    data = InitiativeInput(
        title="Pluktuin langs het Singel aanleggen",
        description="Samen een pluktuin met bessen en kruiden aanleggen en onderhouden.",
        geom=None,
        needs=(
            Need("hands", "Mensen die een zaterdag willen helpen planten", None, None),
            Need("materials", "Struiken en aarde", 40, "planten"),
            Need("money", "Voor gereedschap", 300, "euro"),
        ),
        email=None,
        start_date=date(2027, 4, 3),
        contribution=PLUKTUIN,
        object_layer=None,
        object_id=None,
    )
    initiatives.create(session, data, "nl", initiative_id=INITIATIVE_ID)
    initiative_workflow.change_status(session, INITIATIVE_ID, "in_voorbereiding")
    for name in ("Fatima", "Joost"):
        initiatives.join(session, INITIATIVE_ID, JoinInput(name, None), "nl")
    session.execute(
        text(
            "INSERT INTO initiative_update (initiative_id, text) VALUES (:id, "
            "'De gemeente vindt het een goed plan. We zoeken nog een paar helpers!')"
        ),
        {"id": INITIATIVE_ID},
    )


def _adoption(session: Session) -> None:
    session.execute(
        text(
            "INSERT INTO adoption (id, layer, feature_id, geom, group_name, activities, "
            "frequency, status, response, decided_at, start_date) VALUES (:id, :layer, :fid, "
            "ST_GeomFromText(:wkt, 4326), 'Buurtgroep Groen Singel', "
            "'Onkruid wieden, bollen planten en zwerfafval opruimen', 'maandelijks', 'accepted', "
            "'Wat fijn dat u dit doet. De gemeente zorgt voor gereedschap.', now(), :start)"
        ),
        {
            "id": ADOPTION_ID,
            "layer": DEMO_LAYER,
            "fid": DEMO_FEATURE,
            "wkt": PLANTSOEN_WKT,
            "start": date(2027, 3, 1),
        },
    )
    for action in ("offered", "accepted"):
        session.execute(
            text("INSERT INTO adoption_event (adoption_id, action) VALUES (:id, :action)"),
            {"id": ADOPTION_ID, "action": action},
        )
