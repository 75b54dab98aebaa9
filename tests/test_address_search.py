"""The address search (/api/v1/search) over the demo's BAG addresses of Weesp Centrum: a street
with a number and a place, a postcode with a number, partial input, a typo; best first; problem+json
for bad input; an empty answer, not an error, when no address layer is loaded."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geodata import address_search
from kaart.providers.addresses import parse
from tests.layers_fixture import make_weesp_addresses
from tests.places import FRONT_DOOR

SEARCH = "/api/v1/search"


@pytest.fixture
def addresses(connection) -> str:
    table = make_weesp_addresses(connection)
    cursor = connection.connection.driver_connection.cursor()
    address_search.build(cursor, table)
    return table


def labels(client, q: str, **params) -> list[str]:
    r = client.get(SEARCH, query_string={"q": q, **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "application/geo+json"
    body = r.get_json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == len(body["features"])
    return [f["properties"]["label"] for f in body["features"]]


def test_a_query_is_split_into_postcode_number_and_words():
    assert parse("Nieuwstraat 12a Weesp") == parse("  nieuwstraat   12 A  weesp ")
    q = parse("Nieuwstraat 12a Weesp")
    assert (q.words, q.postcode, q.number, q.letter) == ("nieuwstraat weesp", None, 12, "a")
    q = parse("1381 bb 13")
    assert (q.words, q.postcode, q.number, q.letter) == ("", "1381BB", 13, None)
    assert parse("1381BB").postcode == "1381BB" and parse("1381BB").number is None
    assert parse("12").empty and not parse("nieu").empty


def test_street_number_and_place(client, addresses):
    found = labels(client, "Nieuwstraat 12 Weesp")
    assert found[:2] == ["Nieuwstraat 12, 1381BC Weesp", "Nieuwstraat 12a, 1381BC Weesp"]
    assert labels(client, "Nieuwstraat 12a")[0] == "Nieuwstraat 12a, 1381BC Weesp"
    assert labels(client, "nieuwstraat 13")[0] == "Nieuwstraat 13, 1381BB Weesp"


def test_the_place_found_is_the_address_point(client, addresses):
    r = client.get(SEARCH, query_string={"q": "Het Grote Plein 4"}).get_json()
    first = r["features"][0]
    assert first["properties"]["label"] == "Het Grote Plein 4, 1381BE Weesp"
    assert first["geometry"]["type"] == "Point"
    assert first["geometry"]["coordinates"] == pytest.approx(FRONT_DOOR, abs=2e-5)
    assert r["layer"] == "bag-adressen"
    assert first["id"]  # the BAG verblijfsobject id


def test_postcode_with_and_without_a_number(client, addresses):
    assert labels(client, "1381 BB 13") == ["Nieuwstraat 13, 1381BB Weesp"]
    assert labels(client, "1381bb13") == ["Nieuwstraat 13, 1381BB Weesp"]
    some = labels(client, "1381 BB", limit=20)
    assert len(some) > 3 and all("1381BB" in label for label in some)


def test_partial_input_and_a_typo_find_the_street(client, addresses):
    assert labels(client, "nieuwstr")[0] == "Nieuwstraat, Weesp"
    assert labels(client, "Nieuwstaat")[0] == "Nieuwstraat, Weesp"  # one letter missing
    assert labels(client, "Nieuwstaat 13")[0] == "Nieuwstraat 13, 1381BB Weesp"
    assert labels(client, "grote plein")[0] == "Het Grote Plein, Weesp"
    assert labels(client, "Kalverstraat 1") == []  # not in Weesp Centrum


def test_answers_are_limited_and_bad_input_is_a_problem(client, addresses):
    assert len(labels(client, "straat", limit=3)) <= 3
    for params, field in (({}, "q"), ({"q": " "}, "q"), ({"q": "x" * 101}, "q")):
        r = client.get(SEARCH, query_string=params)
        assert r.status_code == 400 and r.mimetype == "application/problem+json"
        assert r.get_json()["errors"][0]["field"] == field
    r = client.get(SEARCH, query_string={"q": "Nieuwstraat", "limit": "999"})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "limit"
    for odd in ("%", "_", "\\", "'; DROP TABLE layer; --", "1234 AB 99999"):
        assert client.get(SEARCH, query_string={"q": odd}).status_code == 200


def test_without_an_address_layer_the_answer_is_empty(client, connection):
    assert (
        connection.execute(text("SELECT count(*) FROM layer WHERE kind = 'address'")).scalar() == 0
    )
    r = client.get(SEARCH, query_string={"q": "Nieuwstraat 12"})
    assert r.status_code == 200
    assert r.get_json() == {
        "type": "FeatureCollection",
        "features": [],
        "numberReturned": 0,
        "layer": None,
    }


def test_the_index_is_built_beside_the_layer(connection, addresses):
    names = set(
        connection.execute(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = 'open_data'")
        ).scalars()
    )
    assert {
        f"{addresses}__streets_label_idx",
        f"{addresses}__streets_prefix_idx",
        f"{addresses}_street_idx",
        f"{addresses}_postcode_idx",
    } <= names
