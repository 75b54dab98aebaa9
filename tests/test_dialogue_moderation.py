"""Moderation: hide with a reason, restore, publish what waits; residents' reports hide an item
pending review at the threshold; the public predicate, tiles and the history follow."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from kaart.services import moderation
from tests.dialogue_fixtures import csrf_of, log_in_as, make_process, make_user, session_on
from tests.places import HET_GROTE_PLEIN, feature

API = "/api/v1/contributions"
# The z16 tile holding Het Grote Plein.
TILE = "/tiles/contributions/16/33685/21556.pbf"


def _create(client, **props) -> dict:
    r = client.post(API, json=feature(**props))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _visibility(connection, contribution_id) -> str:
    return connection.execute(
        text("SELECT visibility FROM contribution WHERE id = :id"), {"id": contribution_id}
    ).scalar_one()


def test_a_moderator_hides_with_a_reason_and_restores(app, client, connection):
    created = _create(client, title="Reclame voor mijn bedrijf")
    cid = created["id"]
    tile_before = client.get(TILE)
    assert tile_before.status_code == 200
    token = log_in_as(client, make_user(connection, "moderator"))

    r = client.post(f"/beheer/moderatie/contribution/{cid}/verbergen", data={"csrf_token": token})
    assert r.status_code == 302 and _visibility(connection, cid) == "published"  # reason needed

    r = client.post(
        f"/beheer/moderatie/contribution/{cid}/verbergen",
        data={"csrf_token": token, "reason": "Reclame hoort niet op de wijkkaart."},
    )
    assert r.status_code == 302 and _visibility(connection, cid) == "hidden"
    assert client.get(f"{API}/{cid}").status_code == 404
    assert client.get(f"/bijdragen/{cid}").status_code == 404
    near = client.get(f"{API}?near={HET_GROTE_PLEIN[0]},{HET_GROTE_PLEIN[1]}&radius=30").get_json()
    assert cid not in [f["id"] for f in near["features"]]
    tile_hidden = client.get(TILE)
    assert tile_hidden.status_code == 204 or tile_hidden.data != tile_before.data
    assert tile_hidden.headers.get("ETag") != tile_before.headers["ETag"]

    # The author sees the reason through the private link.
    private = client.get(
        f"{API}/{cid}/private", headers={"Authorization": f"Bearer {created['edit_token']}"}
    ).get_json()
    assert private["visibility"] == "hidden"
    assert private["hidden_reason"] == "Reclame hoort niet op de wijkkaart."
    assert [e["action"] for e in private["history"]] == ["created", "hidden"]
    assert private["history"][1]["text"] == "Reclame hoort niet op de wijkkaart."
    # The public history never shows moderation decisions.
    assert client.get(f"{API}/{cid}/history").status_code == 404

    queue = client.get("/beheer/moderatie").get_data(as_text=True)
    assert "Reclame voor mijn bedrijf" in queue and "Terugzetten" in queue

    r = client.post(f"/beheer/moderatie/contribution/{cid}/publiceren", data={"csrf_token": token})
    assert r.status_code == 302 and _visibility(connection, cid) == "published"
    assert client.get(f"{API}/{cid}").status_code == 200
    # The map's copy of the hidden state is out of date: the tile comes again, as before.
    restored = client.get(TILE, headers={"If-None-Match": tile_hidden.headers["ETag"]})
    assert restored.status_code == 200 and restored.data == tile_before.data

    actions = connection.execute(
        text(
            "SELECT e.action, e.text, u.display_name FROM contribution_event e "
            "LEFT JOIN app_user u ON u.id = e.actor_id WHERE contribution_id = :id ORDER BY e.id"
        ),
        {"id": cid},
    ).all()
    assert [(a.action, a.display_name) for a in actions] == [
        ("created", None),
        ("hidden", "Jan moderator"),
        ("restored", "Jan moderator"),
    ]
    assert actions[1].text == "Reclame hoort niet op de wijkkaart."


def test_the_queue_shows_premoderated_contributions_until_published(client, connection):
    make_process(connection, "eerst-kijken", premoderation=True)
    created = _create(client, process="eerst-kijken", title="Moestuin bij de kerk")
    token = log_in_as(client, make_user(connection, "moderator"))
    html = client.get("/beheer/moderatie").get_data(as_text=True)
    assert "Moestuin bij de kerk" in html and "Wacht op moderatie" in html
    client.post(
        f"/beheer/moderatie/contribution/{created['id']}/publiceren", data={"csrf_token": token}
    )
    assert client.get(f"{API}/{created['id']}").status_code == 200
    assert "Niets te modereren" in client.get("/beheer/moderatie").get_data(as_text=True)
    event = connection.execute(
        text(
            "SELECT action, from_visibility, to_visibility FROM contribution_event "
            "WHERE contribution_id = :id AND action <> 'created'"
        ),
        {"id": created["id"]},
    ).one()
    assert tuple(event) == ("published", "pending", "published")


def test_reports_hide_a_contribution_pending_review_at_the_threshold(app, client, connection):
    created = _create(client, title="Scheldwoorden")
    cid = created["id"]
    url = f"{API}/{cid}/reports"
    residents = [app.test_client() for _ in range(3)]

    def report(resident, n, body):
        # Each resident from their own address (one address reports an item once a day).
        return resident.post(
            url,
            json=body,
            headers={"X-CSRF-Token": csrf_of(resident)},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )

    for n, resident in enumerate(residents[:2], start=1):
        r = report(resident, n, {"reason": "kwetsend"})
        assert r.status_code == 201 and r.get_json() == {"report_count": n, "hidden": False}
    # The same person reporting twice counts once, even from another address ...
    again = report(residents[0], 9, {})
    assert again.status_code == 409 and again.get_json()["errors"][0]["code"] == "report_duplicate"
    # ... and a fresh cookie from an address that reported already does not count either.
    fresh = report(app.test_client(), 2, {})
    assert fresh.status_code == 409 and fresh.get_json()["errors"][0]["code"] == "report_duplicate"
    assert _visibility(connection, cid) == "published"

    r = report(residents[2], 3, {"reason": "x"})
    assert r.get_json() == {"report_count": 3, "hidden": True}
    assert _visibility(connection, cid) == "pending"
    assert client.get(f"{API}/{cid}").status_code == 404
    reported = connection.execute(
        text(
            "SELECT text FROM contribution_event "
            "WHERE contribution_id = :id AND action = 'reported'"
        ),
        {"id": cid},
    ).scalar_one()
    assert reported == "3 reports"
    assert (
        connection.execute(
            text("SELECT count(DISTINCT reporter) FROM report WHERE contribution_id = :id"),
            {"id": cid},
        ).scalar_one()
        == 3
    )


def test_the_report_threshold_is_configurable(settings, connection):
    from kaart import create_app

    app = create_app({"settings": settings.replace(report_threshold=1), "db_bind": connection})
    client = app.test_client()
    created = _create(client)
    r = client.post(
        f"{API}/{created['id']}/reports", json={}, headers={"X-CSRF-Token": csrf_of(client)}
    )
    assert r.get_json()["hidden"] is True


def test_a_reported_comment_is_hidden_pending_review_and_moderated_like_contributions(
    app, client, connection
):
    created = _create(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    comment = client.post(
        f"{API}/{created['id']}/comments", json={"body": "Onzin!"}, headers=headers
    ).get_json()
    with session_on(connection) as session:
        for n in range(3):
            result = moderation.report(session, "comment", uuid.UUID(comment["id"]), f"r{n}", "", 3)
    assert result.hidden
    listed = client.get(f"{API}/{created['id']}/comments").get_json()["comments"]
    assert listed == []
    token = log_in_as(client, make_user(connection, "moderator"))
    assert "Onzin!" in client.get("/beheer/moderatie").get_data(as_text=True)
    r = client.post(
        f"/beheer/moderatie/comment/{comment['id']}/verbergen",
        data={"csrf_token": token, "reason": "Geen bijdrage aan het gesprek."},
    )
    assert r.status_code == 302
    row = connection.execute(
        text("SELECT visibility, hidden_reason FROM comment WHERE id = :id"), {"id": comment["id"]}
    ).one()
    assert tuple(row) == ("hidden", "Geen bijdrage aan het gesprek.")


def test_hiding_twice_or_an_unknown_item_is_refused(connection):
    with session_on(connection) as session:
        with pytest.raises(Exception) as caught:
            moderation.hide(session, "contribution", uuid.uuid4(), "reden", None)
        assert caught.value.status == 404
        cid = connection.execute(
            text(
                "INSERT INTO contribution (category, title, geom, public_geom, edit_token_hash) "
                "VALUES ('idee', 'x', ST_SetSRID(ST_MakePoint(5.0423, 52.3066), 4326), "
                "ST_SetSRID(ST_MakePoint(5.0423, 52.3066), 4326), "
                "decode(repeat('ab', 32), 'hex')) RETURNING id"
            )
        ).scalar_one()
        moderation.hide(session, "contribution", cid, "reden", None)
        with pytest.raises(Exception) as caught:
            moderation.hide(session, "contribution", cid, "nog eens", None)
        assert caught.value.status == 409
