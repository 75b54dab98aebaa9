"""/api/v1/contributions: create, list, read, change and withdraw contributions (GeoJSON);
/api/v1/location-check: whether a point placed there is shown approximately on the public map."""

from __future__ import annotations

import json
import uuid

from flask import Response, current_app, request, url_for
from shapely.geometry import Point

from kaart.db import get_read_session, get_session, transaction
from kaart.errors import Invalid
from kaart.geo import Limits, limits_for, parse_geometry
from kaart.i18n import current_language
from kaart.mail import addresses, notify
from kaart.models.contribution import CATEGORIES
from kaart.params import Params
from kaart.providers import contributions, versions
from kaart.services import contributions as service
from kaart.services import idempotency, participant_answers, privacy, processes, workflow
from kaart.services.idempotency import edit_token
from kaart.services.input import parse_feature
from kaart.textcheck import load_json
from kaart.views.api import bp
from kaart.views.api.io import as_json, collection, cursor, geojson, limit, read_json, versioned
from kaart.web import bearer_token, idempotency_key, limit_client


def _limits() -> Limits:
    return limits_for(current_app.config["KAART"])


@bp.post("/contributions")
def create_contribution() -> Response:
    body = read_json()
    data = parse_feature(body, _limits())
    answers = participant_answers.parse_answers(body)  # who takes part: stored apart, never shown
    email = addresses.parse(body["properties"].get("email"), "properties.email")
    key = idempotency_key()
    digest = idempotency.request_digest(request.method, request.path, request.get_data())
    secret = current_app.config["SECRET_KEY"]
    with transaction() as session:
        if key and (answer := idempotency.find(session, "contribution", key, digest)):
            return _created(answer.body, answer.resource_id, edit_token(secret, key), True)
        limit_client(session, "contribute")
        # Within a participation process: its area, period and categories (dialogue part).
        process_id, visibility = None, "published"
        if body["properties"].get("process") is not None:
            process_id, visibility = processes.admit(session, body["properties"]["process"], data)
        created = service.create(
            session,
            data,
            process_id=process_id,
            visibility=visibility,
            edit_token=edit_token(secret, key) if key else None,
            rule=privacy.rule_for(current_app.config["KAART"]),
        )
        participant_answers.record(session, process_id, created.id, answers)
        notify.after_create(
            session, created.id, visibility, email, current_language(), created.edit_token
        )
        response = _created(created.feature, created.id, created.edit_token)
        if key:
            answer = idempotency.Answer(201, response.location, created.feature, created.id)
            idempotency.remember(session, "contribution", key, digest, answer)
    return response


def _created(feature: str, ident: uuid.UUID, token: str, replayed: bool = False) -> Response:
    """201 with the Feature plus its edit token and private link (shown only in this answer;
    we keep just the token's hash)."""
    location = url_for("api.get_contribution", contribution_id=ident)
    edit_url = url_for("public.edit", contribution_id=ident) + f"#token={token}"
    body = (
        feature[:-1] + f', "edit_token": {json.dumps(token)}, "edit_url": {json.dumps(edit_url)}}}'
    )
    headers = {"Location": location, "Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return geojson(body, 201, headers)


@bp.get("/contributions")
def list_contributions() -> Response:
    settings = current_app.config["KAART"]
    args = Params(request.args)
    query = contributions.Query(
        bbox=args.bbox("bbox"),
        categories=args.choices("category", CATEGORIES),
        near=args.lonlat("near"),
        radius_m=args.number("radius", 1, contributions.NEAR_RADIUS_MAX_M, 50.0),
        limit=limit(args, settings.page_default, settings.page_max),
        cursor=cursor(args),
    )
    args.done()
    session = get_read_session()
    version = versions.current(session, contributions.READS)
    return versioned(version, lambda: collection(contributions.page(session, query)))


@bp.get("/location-check")
def location_check() -> Response:
    """Told while placing: near a home, the public map shows the place approximately. A point
    as `lon` and `lat`, or any shape as `geometry` (GeoJSON, checked like a contribution's)."""
    settings = current_app.config["KAART"]
    args = Params(request.args)
    if "geometry" in request.args:
        raw = args.raw("geometry")
        args.done()
        place = parse_geometry(load_json(raw, "geometry", in_query=True), _limits())
    else:
        lon = args.number("lon", -180, 180, required=True)
        lat = args.number("lat", -90, 90, required=True)
        args.done()
        west, south, east, north = settings.area_bbox
        if not (west <= lon <= east and south <= lat <= north):
            reason = f"[{lon}, {lat}] lies outside the area this map covers."
            raise Invalid(reason, "lon", "outside_area", title="Invalid location")
        place = Point(lon, lat)
    rule = privacy.rule_for(settings)
    approximate = privacy.check(get_read_session(), rule, place)
    return as_json({"approximate": approximate, **rule.sizes()})


@bp.get("/contributions/<uuid:contribution_id>")
def get_contribution(contribution_id: uuid.UUID) -> Response:
    # The primary, not the replica: a 201 names this as its Location.
    return geojson(contributions.feature(get_session(), contribution_id))


@bp.patch("/contributions/<uuid:contribution_id>")
def patch_contribution(contribution_id: uuid.UUID) -> Response:
    body = read_json()
    data = parse_feature(body, _limits(), partial=True)
    participant_answers.refuse_later(body)
    with transaction() as session:
        rule = privacy.rule_for(current_app.config["KAART"])
        changed = service.update(session, contribution_id, bearer_token(), data, rule=rule)
        limit_client(session, "edit")
    return geojson(changed)


@bp.delete("/contributions/<uuid:contribution_id>")
def delete_contribution(contribution_id: uuid.UUID) -> Response:
    with transaction() as session:
        workflow.withdraw(session, contribution_id, bearer_token())
        limit_client(session, "edit")
    return Response(status=204)
