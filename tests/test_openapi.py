"""The OpenAPI document of /api/v1: generated from the routes and the validation's own rules,
served with a self-hosted documentation page, and checked by Schemathesis against the running
server (bounded examples): no 5xx, every answer as the document says."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import text

from kaart.models.contribution import CATEGORIES, DESCRIPTION_MAX, TITLE_MAX
from kaart.services.openapi import SELF_ENDPOINTS

MAX_EXAMPLES = 30


def test_document_lists_every_api_route(client, app):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.get_json()
    assert doc["openapi"].startswith("3.")
    routes = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)[len("/api/v1") :]
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in SELF_ENDPOINTS
    }
    assert routes == set(doc["paths"])
    assert "/openapi.json" not in doc["paths"]
    assert set(doc["paths"]["/contributions"]) == {"get", "post"}
    assert set(doc["paths"]["/contributions/{contribution_id}"]) >= {"get", "patch", "delete"}
    # Every operation says what it does: no internal endpoint names ("api.support") in the docs.
    for path, operations in doc["paths"].items():
        for verb, operation in operations.items():
            assert not operation["summary"].startswith("api."), (path, verb)


def test_schemas_come_from_the_validation_rules(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    props = schemas["ContributionInput"]["properties"]["properties"]["properties"]
    assert props["category"]["enum"] == list(CATEGORIES)
    assert props["title"]["maxLength"] == TITLE_MAX
    assert props["description"]["maxLength"] == DESCRIPTION_MAX
    assert props["status"] == {"readOnly": True}
    assert schemas["ContributionInput"]["properties"]["properties"]["additionalProperties"] is False
    listing = client.get("/api/v1/openapi.json").get_json()["paths"]["/contributions"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000  # KAART_PAGE_MAX


def test_a_new_route_appears_by_itself(app):
    from kaart.services import openapi

    app.add_url_rule("/api/v1/extra/<thing_id>", "extra", lambda thing_id: "", methods=["GET"])
    doc = openapi.document(app, app.config["KAART"])
    operation = doc["paths"]["/extra/{thing_id}"]["get"]
    assert operation["parameters"][0]["name"] == "thing_id"
    assert "default" in operation["responses"]


def test_docs_page_is_self_hosted_without_inline_script(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page and "js/apidocs.js" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert "<script>" not in page and "https://" not in page.split("<body")[1]


@pytest.mark.browser
def test_docs_page_renders_the_operations_in_chromium(page, live_server):
    outside: list[str] = []
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith(live_server) else None,
    )
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/contributions" in p for p in paths)
    assert outside == []
    page.goto(f"{live_server}/ogc/api?f=html")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    assert any("/collections" in p for p in page.locator(".opblock-summary-path").all_inner_texts())


@pytest.mark.schemathesis
def test_schemathesis_finds_no_5xx_and_no_answer_off_the_document(live_server, clean_db):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    schema = schemathesis.from_uri(
        f"{live_server}/api/v1/openapi.json", base_url=f"{live_server}/api/v1"
    )
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(timeout=30)
            # RFC 8259: JSON between systems is UTF-8. Without this, requests guesses a charset
            # from the bytes (charset_normalizer) and may read random text as Shift-JIS.
            response.encoding = "utf-8"
            case.validate_response(response)

        check()
        checked.append(operation.verbose_name)
    assert "POST /api/v1/contributions" in checked
    assert "GET /api/v1/contributions" in checked
    assert len(checked) >= 8


def test_schemathesis_leaves_nothing_behind(live_server, engine):
    # Runs after the Schemathesis test in this module: clean_db removed what it stored.
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contribution")).scalar_one() == 0
    assert requests.get(f"{live_server}/api/v1/contributions", timeout=10).json()["features"] == []
