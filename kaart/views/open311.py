"""Open311 GeoReport v2 under /open311/v2: services, requests (list, one, create), discovery.

Every answer comes as JSON or XML after the path's extension; errors too, in the spec's format:
a list of {code, description}.
"""

from __future__ import annotations

import hmac
import json
import uuid
from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request, url_for

from kaart.db import get_session, transaction
from kaart.errors import ApiError, Forbidden, NotFound
from kaart.geo import limits_for
from kaart.i18n import current_language
from kaart.i18n import translate as _
from kaart.params import Params
from kaart.services import idempotency, privacy
from kaart.services import open311 as service
from kaart.web import idempotency_key, limit_client

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMAT = "<any(json, xml):fmt>"


def _fmt() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def _render(
    root: str, item: str, rows: list[dict[str, Any]], status: int = 200, **headers
) -> Response:
    if _fmt() == "xml":
        tree = ET.Element(root)
        for row in rows:
            element = ET.SubElement(tree, item)
            for key, value in row.items():
                child = ET.SubElement(element, key)
                if isinstance(value, list):
                    for v in value:
                        ET.SubElement(child, key.rstrip("s")).text = str(v)
                elif value is not None:
                    child.text = str(value).lower() if isinstance(value, bool) else str(value)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree, encoding="utf-8")
        return Response(body, status=status, mimetype="text/xml", headers=headers)
    return Response(
        json.dumps(rows, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_response(error: ApiError) -> Response:
    """GeoReport v2 errors: a list of {code, description}; called by kaart.errors_http."""
    status = 400 if error.status == 422 else error.status
    if error.errors:
        rows = [{"code": status, "description": f"{e.field}: {e.reason}"} for e in error.errors]
    else:
        rows = [{"code": status, "description": error.detail or error.title}]
    response = _render("errors", "error", rows, status)
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def _jurisdiction() -> None:
    asked = request.values.get("jurisdiction_id")
    if asked and asked != current_app.config["KAART"].open311_jurisdiction:
        raise NotFound(reason=f"jurisdiction_id {asked[:60]!r} is not served here.")


@bp.get("/discovery.json")
def discovery() -> Response:
    """Where the GeoReport v2 endpoint is and what it speaks."""
    base = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0]
    body = {
        "changeset": "2026-11-24T00:00:00Z",
        "contact": "Wijkkaart",
        "key_service": "",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-24T00:00:00Z",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
        "jurisdiction_id": current_app.config["KAART"].open311_jurisdiction,
    }
    return Response(json.dumps(body), mimetype="application/json")


@bp.get(f"/services.{FORMAT}")
def services(fmt: str) -> Response:
    _jurisdiction()
    rows = [
        {
            "service_code": code,
            "service_name": _(f"category.{code}"),
            "description": _(f"standards.service.{code}"),
            "metadata": False,
            "type": "realtime",
            "keywords": _(f"standards.service.{code}.keywords"),
            "group": _("standards.service.group"),
        }
        for code in service.SERVICE_CODES
    ]
    return _render("services", "service", rows)


@bp.get(f"/requests.{FORMAT}")
def list_requests(fmt: str) -> Response:
    _jurisdiction()
    params = Params(request.args)
    start, end = params.moment("start_date"), params.moment("end_date")
    if start and end and start > end:
        params.fail("start_date", "start_date is after end_date.", "start_date_invalid")
    query = service.RequestQuery(
        ids=params.uuids("service_request_id"),
        service_codes=params.choices("service_code", service.SERVICE_CODES),
        start=start,
        end=end,
        statuses=params.choices("status", ("open", "closed")),
        page=params.integer("page", 1, 100_000, 1),
        page_size=params.integer("page_size", 1, service.PAGE_SIZE_MAX, service.PAGE_SIZE_DEFAULT),
    )
    params.done()
    return _render("service_requests", "request", service.find_requests(get_session(), query))


@bp.get(f"/requests/<uuid:request_id>.{FORMAT}")
def get_request(request_id: uuid.UUID, fmt: str) -> Response:
    _jurisdiction()
    return _render("service_requests", "request", [service.get_request(get_session(), request_id)])


@bp.post(f"/requests.{FORMAT}")
def create_request(fmt: str) -> Response:
    _jurisdiction()
    settings = current_app.config["KAART"]
    if settings.open311_api_key:
        key = request.form.get("api_key") or request.args.get("api_key") or ""
        if not hmac.compare_digest(key.encode(), settings.open311_api_key.encode()):
            raise Forbidden("api_key is missing or not valid.")
    form = request.form
    code = form.get("service_code", "")
    title = _(f"category.{code}") if code in service.SERVICE_CODES else code
    key = idempotency_key()
    # The form was parsed already (the body stream is read): the digest is of its fields.
    fields = sorted(form.items(multi=True))
    digest = idempotency.request_digest(request.method, request.path, json.dumps(fields))
    with transaction() as session:
        answer = key and idempotency.find(session, "open311", key, digest)
        if answer:
            new_id = answer.resource_id
        else:
            new_id = service.create_request(
                session,
                form,
                limits_for(settings),
                title,
                privacy.rule_for(settings),
                current_language(),
            )
            limit_client(session, "contribute")
            if key:
                stored = idempotency.Answer(201, None, "", new_id)
                idempotency.remember(session, "open311", key, digest, stored)
    row = {
        "service_request_id": str(new_id),
        "service_notice": _("standards.open311.notice"),
        "account_id": None,
    }
    location = url_for("open311.get_request", request_id=new_id, fmt=fmt)
    return _render("service_requests", "request", [row], 201, Location=location)
