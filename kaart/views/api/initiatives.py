"""/api/v1/initiatives: resident initiatives as GeoJSON (list, one, start one, join one);
/api/v1/adoptions: current accepted adoptions of public space (group name, dates).

No personal data in any answer: `participants` is a number, addresses are never returned.
The initiator's private link (with its token) is returned once, when the initiative is made.
"""

from __future__ import annotations

import uuid

from flask import Response, current_app, request, url_for

from kaart.db import get_read_session, transaction
from kaart.geo import limits_for
from kaart.i18n import current_language
from kaart.models.initiative import NEED_KINDS, STATUSES
from kaart.params import Params
from kaart.providers import initiatives as provider
from kaart.services import adoptions
from kaart.services import initiatives as service
from kaart.services.initiative_input import parse_initiative, parse_join
from kaart.views.api import bp
from kaart.views.api.io import as_json, collection, cursor, geojson, json_object, limit, versioned
from kaart.web import limit_client


@bp.get("/initiatives")
def list_initiatives() -> Response:
    settings = current_app.config["KAART"]
    args = Params(request.args)
    query = provider.Query(
        statuses=args.choices("status", STATUSES),
        needs=args.choices("need", NEED_KINDS),
        bbox=args.bbox("bbox"),
        limit=limit(args, settings.page_default, settings.page_max),
        cursor=cursor(args),
    )
    args.done()
    session = get_read_session()
    version = provider.version(session)
    return versioned(version, lambda: collection(provider.page(session, query)))


@bp.get("/initiatives/<uuid:initiative_id>")
def get_initiative(initiative_id: uuid.UUID) -> Response:
    Params(request.args).done()
    return geojson(provider.feature(get_read_session(), initiative_id))


@bp.post("/initiatives")
def create_initiative() -> Response:
    data = parse_initiative(json_object(), limits_for(current_app.config["KAART"]))
    with transaction() as session:
        limit_client(session, "contribute")
        created = service.create(session, data, current_language())
        feature = provider.feature(session, created.id)
    private = url_for(
        "public.initiative_private",
        initiative_id=created.id,
        token=created.edit_token,
        _external=True,
    )
    body = feature[:-1] + f', "edit_token": "{created.edit_token}", "private_url": "{private}"}}'
    location = url_for("api.get_initiative", initiative_id=created.id)
    return geojson(body, 201, {"Location": location})


@bp.post("/initiatives/<uuid:initiative_id>/participants")
def join_initiative(initiative_id: uuid.UUID) -> Response:
    data = parse_join(json_object())
    with transaction() as session:
        limit_client(session, "public")
        service.join(session, initiative_id, data, current_language())
        counts = provider.counts(session, initiative_id)
    return as_json({"status": "joined", "participants": counts["participants"]}, 201)


@bp.get("/adoptions")
def list_adoptions() -> Response:
    Params(request.args).done()
    session = get_read_session()
    version = adoptions.version(session)
    return versioned(version, lambda: geojson(adoptions.public_collection(session)))
