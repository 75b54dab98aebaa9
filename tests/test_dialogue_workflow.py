"""The status workflow: allowed and refused transitions, the public response, the append-only
history (enforced by the database), and who sees which part of it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kaart import create_app
from kaart.errors import ApiError
from kaart.services import workflow
from tests.dialogue_fixtures import log_in_as, make_user, session_on
from tests.places import feature

API = "/api/v1/contributions"


@pytest.fixture
def created(client) -> dict:
    r = client.post(API, json=feature(category="knelpunt", title="Losse stoeptegels"))
    assert r.status_code == 201
    return r.get_json()


def _status(connection, cid) -> str:
    return connection.execute(
        text("SELECT status FROM contribution WHERE id = :id"), {"id": cid}
    ).scalar_one()


def test_the_whole_path_with_a_reopening(connection, created):
    cid = uuid.UUID(created["id"])
    planner = make_user(connection, "planner")
    steps = [
        ("in_behandeling", "We kijken ernaar."),
        ("overgenomen", "De tegels worden vervangen."),
        ("in_behandeling", "Het budget is verschoven; we kijken opnieuw."),
        ("overgenomen", "Vervanging gepland in maart."),
        ("gerealiseerd", "De tegels liggen er weer strak in."),
    ]
    with session_on(connection) as session:
        for to, response in steps:
            moved = workflow.change_status(session, cid, to, response, planner)
            assert moved.to_status == to
    row = connection.execute(
        text("SELECT status, response, responded_at FROM contribution WHERE id = :id"), {"id": cid}
    ).one()
    assert row.status == "gerealiseerd" and row.response == "De tegels liggen er weer strak in."
    events = connection.execute(
        text(
            "SELECT from_status, to_status, text, actor_id FROM contribution_event "
            "WHERE contribution_id = :id AND action = 'status' ORDER BY id"
        ),
        {"id": cid},
    ).all()
    assert [(e.to_status, e.text) for e in events] == steps
    assert events[0].from_status == "ontvangen" and {e.actor_id for e in events} == {planner}


@pytest.mark.parametrize(
    ("path", "to", "code"),
    [
        ((), "gerealiseerd", "status_transition_refused"),
        ((), "beantwoord", "status_transition_refused"),
        ((), "ingetrokken", "status_transition_refused"),
        ((), "ontvangen", "status_transition_refused"),
        (("in_behandeling", "niet_overgenomen"), "gerealiseerd", "status_transition_refused"),
        (("in_behandeling", "beantwoord"), "bestaat_niet", "status_transition_refused"),
    ],
)
def test_refused_transitions_change_nothing(connection, created, path, to, code):
    cid = uuid.UUID(created["id"])
    with session_on(connection) as session:
        for step in path:
            workflow.change_status(session, cid, step, "Tussenstap.", None)
        before = connection.execute(
            text("SELECT count(*) FROM contribution_event WHERE contribution_id = :id"), {"id": cid}
        ).scalar_one()
        with pytest.raises(ApiError) as caught:
            workflow.change_status(session, cid, to, "Dit mag niet.", None)
    assert caught.value.status == 409 and caught.value.errors[0].code == code
    assert _status(connection, cid) == (path[-1] if path else "ontvangen")
    after = connection.execute(
        text("SELECT count(*) FROM contribution_event WHERE contribution_id = :id"), {"id": cid}
    ).scalar_one()
    assert after == before


def test_every_transition_needs_a_public_response_and_unknown_ids_are_404(connection, created):
    cid = uuid.UUID(created["id"])
    with session_on(connection) as session:
        for empty in ("", "   ", None):
            with pytest.raises(ApiError) as caught:
                workflow.change_status(session, cid, "in_behandeling", empty, None)
            assert caught.value.status == 422
            assert caught.value.errors[0].code == "response_missing"
        with pytest.raises(ApiError) as caught:
            workflow.change_status(session, cid, "in_behandeling", "x" * 5001, None)
        assert caught.value.errors[0].code == "response_too_long"
        with pytest.raises(ApiError) as caught:
            workflow.change_status(session, uuid.uuid4(), "in_behandeling", "Ja.", None)
        assert caught.value.status == 404
    assert _status(connection, cid) == "ontvangen"


def test_a_withdrawn_contribution_has_no_transitions(client, connection, created):
    cid = uuid.UUID(created["id"])
    client.delete(f"{API}/{cid}", headers={"Authorization": f"Bearer {created['edit_token']}"})
    with session_on(connection) as session, pytest.raises(ApiError) as caught:
        workflow.change_status(session, cid, "in_behandeling", "Toch bekijken.", None)
    assert caught.value.status == 409


def test_history_is_append_only_in_the_database(connection, created):
    cid = created["id"]
    for statement in (
        "UPDATE contribution_event SET text = 'herschreven' WHERE contribution_id = :id",
        "DELETE FROM contribution_event WHERE contribution_id = :id",
        # CASCADE: without it the foreign key of commitment_response refuses before the trigger.
        "TRUNCATE contribution_event CASCADE",
    ):
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.execute(text(statement), {"id": cid})
    assert connection.execute(
        text("SELECT action FROM contribution_event WHERE contribution_id = :id"), {"id": cid}
    ).scalars().all() == ["created"]


def test_the_planner_answers_in_beheer_with_a_standard_response(client, connection, created):
    cid = created["id"]
    connection.execute(
        text(
            "INSERT INTO standard_response (category, title, body) VALUES "
            "('knelpunt', 'Doorgestuurd', 'We hebben dit doorgestuurd naar de wijkbeheerder.'), "
            "('groen', 'Groen', 'Alleen voor groen.')"
        )
    )
    token = log_in_as(client, make_user(connection, "planner"))
    page = client.get(f"/beheer/bijdragen/{cid}").get_data(as_text=True)
    assert "We hebben dit doorgestuurd naar de wijkbeheerder." in page
    assert "Alleen voor groen." not in page  # only this category's (and general) responses
    assert '<option value="in_behandeling">' in page and 'value="gerealiseerd"' not in page

    r = client.post(
        f"/beheer/bijdragen/{cid}/status",
        data={"csrf_token": token, "status": "gerealiseerd", "response": "Klaar."},
    )
    assert r.status_code == 302 and _status(connection, cid) == "ontvangen"
    assert "Deze statuswijziging is niet toegestaan." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    r = client.post(
        f"/beheer/bijdragen/{cid}/status",
        data={
            "csrf_token": token,
            "status": "in_behandeling",
            "response": "We hebben dit doorgestuurd naar de wijkbeheerder.",
        },
    )
    assert r.status_code == 302 and _status(connection, cid) == "in_behandeling"
    full = client.get(f"/beheer/bijdragen/{cid}").get_data(as_text=True)
    assert "Status: Ontvangen → In behandeling" in full and "Jan planner" in full


def test_the_public_and_the_author_see_status_response_and_history(
    client, connection, created, settings
):
    cid = uuid.UUID(created["id"])
    planner = make_user(connection, "planner")
    with session_on(connection) as session:
        workflow.change_status(session, cid, "in_behandeling", "We gaan dit bekijken.", planner)
    html = client.get(f"/bijdragen/{cid}").get_data(as_text=True)
    assert "We gaan dit bekijken." in html and "In behandeling" in html
    assert "Status: Ontvangen → In behandeling" in html and "Jan planner" in html
    public = client.get(f"{API}/{cid}/history").get_json()["history"]
    assert [e["action"] for e in public] == ["created", "status"]
    assert public[1]["actor"] == "Jan planner"

    hidden_names = create_app(
        {"settings": settings.replace(history_show_staff=False), "db_bind": connection}
    ).test_client()
    assert "Jan planner" not in hidden_names.get(f"/bijdragen/{cid}").get_data(as_text=True)
    assert hidden_names.get(f"{API}/{cid}/history").get_json()["history"][1]["actor"] is None

    private = client.get(
        f"{API}/{cid}/private", headers={"Authorization": f"Bearer {created['edit_token']}"}
    )
    body = private.get_json()
    assert body["status"] == "in_behandeling" and body["response"] == "We gaan dit bekijken."
    assert client.get(f"{API}/{cid}/private").status_code == 401
    wrong = client.get(f"{API}/{cid}/private", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    # The feature itself carries the response for the map and the private page.
    assert (
        client.get(f"{API}/{cid}").get_json()["properties"]["response"] == "We gaan dit bekijken."
    )
