"""The wijkdialoog: comments with one level of replies, moderated like contributions, and
support once per person with a signed cookie, rate-limited per IP address."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kaart import create_app
from tests.dialogue_fixtures import csrf_of, make_process
from tests.places import feature

API = "/api/v1/contributions"


@pytest.fixture
def created(client) -> dict:
    return client.post(API, json=feature(title="Speeltuin opknappen")).get_json()


def _post(client, path, body):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf_of(client)})


def test_comments_and_replies_one_level_deep(client, connection, created):
    url = f"{API}/{created['id']}/comments"
    first = _post(client, url, {"body": "Goed idee!", "author_name": "Fatima"})
    assert first.status_code == 201
    top = first.get_json()
    reply = _post(client, url, {"body": "Eens, met een wipwap.", "parent": top["id"]}).get_json()
    assert reply["parent"] == top["id"]
    deeper = _post(client, url, {"body": "En een glijbaan.", "parent": reply["id"]})
    assert deeper.status_code == 422
    assert deeper.get_json()["errors"][0] == {
        "field": "parent",
        "reason": "Reply to the comment itself: replies go one level deep.",
        "code": "comment_reply_depth",
    }
    listed = client.get(url).get_json()["comments"]
    assert [c["body"] for c in listed] == ["Goed idee!"]
    assert [r["body"] for r in listed[0]["replies"]] == ["Eens, met een wipwap."]
    html = client.get(f"/bijdragen/{created['id']}").get_data(as_text=True)
    assert "Fatima" in html and "Eens, met een wipwap." in html and "Anonieme bewoner" in html

    # The database refuses a reply to a reply too, whoever writes it.
    with (
        pytest.raises(Exception, match="must answer a top-level comment"),
        connection.begin_nested(),
    ):
        connection.execute(
            text("INSERT INTO comment (contribution_id, parent_id, body) VALUES (:c, :p, 'diep')"),
            {"c": created["id"], "p": reply["id"]},
        )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "body", "comment_body_missing"),
        ({"body": "   "}, "body", "comment_body_missing"),
        ({"body": 12}, "body", "comment_body_invalid"),
        ({"body": "x" * 2001}, "body", "comment_body_too_long"),
        ({"body": "ok", "author_name": "n" * 81}, "author_name", "comment_author_name_too_long"),
        ({"body": "a\x07b"}, "body", "text_control_chars"),
        ({"body": "ok", "parent": "geen-id"}, "parent", "comment_parent_unknown"),
        ({"body": "ok", "likes": 3}, "likes", "unknown_property"),
    ],
)
def test_bad_comments_are_refused_with_the_field(client, created, count_rows, body, field, code):
    r = _post(client, f"{API}/{created['id']}/comments", body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    error = r.get_json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)
    assert count_rows("comment") == 0


def test_no_comments_on_hidden_withdrawn_or_unknown_contributions(client, connection, created):
    connection.execute(
        text("UPDATE contribution SET visibility = 'hidden' WHERE id = :id"), {"id": created["id"]}
    )
    assert _post(client, f"{API}/{created['id']}/comments", {"body": "Hallo"}).status_code == 404
    other = client.post(API, json=feature()).get_json()
    client.delete(
        f"{API}/{other['id']}", headers={"Authorization": f"Bearer {other['edit_token']}"}
    )
    assert _post(client, f"{API}/{other['id']}/comments", {"body": "Hallo"}).status_code == 404
    assert _post(client, f"{API}/not-an-id/comments", {"body": "Hallo"}).status_code == 404


def test_comments_in_a_premoderated_process_wait_for_a_moderator(client, connection):
    make_process(connection, "eerst-kijken", premoderation=True)
    created = client.post(API, json=feature(process="eerst-kijken")).get_json()
    connection.execute(
        text("UPDATE contribution SET visibility = 'published' WHERE id = :id"),
        {"id": created["id"]},
    )
    r = _post(client, f"{API}/{created['id']}/comments", {"body": "Mooi plan"})
    assert r.status_code == 201 and r.get_json()["visibility"] == "pending"
    assert client.get(f"{API}/{created['id']}/comments").get_json()["comments"] == []


def test_support_counts_once_per_person(app, client, created):
    url = f"{API}/{created['id']}/support"
    first = _post(client, url, {})
    assert first.status_code == 201 and first.get_json() == {
        "support_count": 1,
        "supported": True,
        "added": True,
    }
    cookie = next(
        c for c in first.headers.getlist("Set-Cookie") if c.startswith("kaart_supporter=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    again = _post(client, url, {})
    assert again.status_code == 200 and again.get_json()["support_count"] == 1
    assert again.get_json()["added"] is False
    html = client.get(f"/bijdragen/{created['id']}").get_data(as_text=True)
    assert "U steunt dit" in html and "1 keer gesteund" in html

    neighbour = app.test_client()
    assert _post(neighbour, url, {}).get_json()["support_count"] == 2
    # A forged cookie is a new, anonymous identity, not someone else's.
    forger = app.test_client()
    forger.set_cookie("kaart_supporter", "forged.value")
    assert _post(forger, url, {}).get_json()["support_count"] == 3
    assert client.get(f"{API}/{created['id']}").get_json()["properties"]["support_count"] == 3


def test_support_and_comments_are_rate_limited_per_ip(settings, connection):
    app = create_app(
        {"settings": settings.replace(public_actions_per_hour=3), "db_bind": connection}
    )
    created = app.test_client().post(API, json=feature()).get_json()
    answers = []
    for _ in range(4):
        resident = app.test_client()  # a fresh cookie each time: the IP address still counts
        answers.append(_post(resident, f"{API}/{created['id']}/support", {}).status_code)
    assert answers == [201, 201, 201, 429]
    r = _post(app.test_client(), f"{API}/{created['id']}/comments", {"body": "Nog een"})
    assert r.status_code == 429 and r.get_json()["errors"][0]["code"] == "rate_limited"
    assert "Retry-After" in r.headers


def test_support_for_something_hidden_is_refused(client, connection, created):
    connection.execute(
        text("UPDATE contribution SET visibility = 'pending' WHERE id = :id"), {"id": created["id"]}
    )
    assert _post(client, f"{API}/{created['id']}/support", {}).status_code == 404
