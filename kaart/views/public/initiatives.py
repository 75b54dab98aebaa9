"""Resident initiatives, pages for people.

/initiatieven                                  list with filters (status, what is needed)
/initiatieven/nieuw                            start one (from a contribution: ?bijdrage=<id>)
/initiatieven/<id>                             the public page: needs, how many joined, timeline,
                                               and the "Ik doe mee" form
/initiatieven/<id>/beheer/<token>              the initiator's private page: who joined, post
                                               updates, tick off needs, change the status
/initiatieven/bevestigen/<token>               a joiner confirms the address for news
/initiatieven/afmelden/<token>                 a joiner stops the mail (page, or one POST)
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from kaart.auth import csrf_exempt
from kaart.db import get_session, transaction
from kaart.errors import ApiError, FieldError, NotFound
from kaart.geo import limits_for
from kaart.i18n import current_language
from kaart.models.initiative import NEED_KINDS, STATUSES
from kaart.params import Params
from kaart.providers import contributions as contribution_provider
from kaart.providers import initiatives as provider
from kaart.services import (
    commitments,
    initiative_mail,
    initiative_photos,
    initiative_workflow,
    photos,
)
from kaart.services import initiatives as service
from kaart.services.initiative_input import parse_initiative, parse_join, parse_update_text
from kaart.views.public import bp
from kaart.views.public.pages import map_config
from kaart.views.public.photos import send_photo
from kaart.web import limit_client

PAGE_SIZE = 50
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@bp.app_template_filter("initiative_amount")
def _amount(value: Any) -> str:
    """An amount as people write it: 5, 2,50 (Dutch) or 2.50 (English)."""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    text_value = f"{number:.2f}"
    return text_value.replace(".", ",") if current_language() == "nl" else text_value


@bp.app_template_global("initiatives_from")
def _initiatives_from(contribution_id: Any) -> list[Any]:
    """Published initiatives that grew from a contribution (its page lists them)."""
    return service.started_from(get_session(), uuid.UUID(str(contribution_id)))


def _features(page_text: list[str]) -> list[dict[str, Any]]:
    return [json.loads(f) for f in page_text]


@bp.get("/initiatieven")
def initiatives() -> str:
    args = Params(request.args)
    status = args.choices("status", STATUSES)
    need = args.choices("need", NEED_KINDS)
    query = provider.Query(statuses=status, needs=need, limit=PAGE_SIZE)
    found = _features(provider.page(get_session(), query).features)
    return render_template(
        "initiatives/list.html",
        initiatives=found,
        statuses=STATUSES,
        need_kinds=NEED_KINDS,
        chosen={"status": status, "need": need},
    )


def _source(values: dict[str, Any]) -> dict[str, Any] | None:
    """The published contribution an initiative starts from (?bijdrage=<id>), or None."""
    raw = values.get("bijdrage") or values.get("contribution")
    if not raw:
        return None
    try:
        found = contribution_provider.feature(get_session(), uuid.UUID(str(raw)))
    except (ValueError, ApiError):
        abort(404)
    return json.loads(found)


@bp.route("/initiatieven/nieuw", methods=["GET", "POST"])
def new_initiative() -> Any:
    values: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    source = _source(values)
    if request.method == "GET":
        if source:
            props = source["properties"]
            values.setdefault("title", props["title"])
            values.setdefault("description", props.get("description") or "")
        return _form(values, source, [], 200)
    body = _form_body(values, source)
    try:
        data = parse_initiative(body, limits_for(current_app.config["KAART"]))
        with transaction() as session:
            limit_client(session, "contribute")
            created = service.create(session, data, current_language())
    except ApiError as exc:
        kinds = [need["kind"] for need in body["properties"]["needs"]]
        return _form(values, source, [_form_field(e, kinds) for e in exc.errors], exc.status)
    target = url_for(
        "public.initiative_private", initiative_id=created.id, token=created.edit_token, new=1
    )
    return redirect(target, 303)


def _form(values: dict, source: dict | None, errors: list, status: int) -> tuple[str, int]:
    page = render_template(
        "initiatives/new.html",
        values=values,
        source=source,
        errors=errors,
        need_kinds=NEED_KINDS,
        map_center=list(current_app.config["KAART"].map_center),
        config=map_config(),
    )
    return page, status


def _form_field(error: FieldError, kinds: list[str]) -> FieldError:
    """An error about `properties.needs.<n>.<part>` as the form's field `need_<kind>_<part>`."""
    match = re.fullmatch(r"properties\.needs\.(\d+)\.(\w+)", error.field)
    if not match or int(match[1]) >= len(kinds):
        return error
    part = "" if match[2] == "description" else f"_{match[2]}"
    return FieldError(f"need_{kinds[int(match[1])]}{part}", error.reason, error.code)


def _form_body(values: dict[str, Any], source: dict | None) -> dict[str, Any]:
    """The form in the API's shape: a Feature with the needs as a list."""
    needs = []
    for kind in NEED_KINDS:
        description = (values.get(f"need_{kind}") or "").strip()
        amount = (values.get(f"need_{kind}_amount") or "").strip()
        if description or amount:
            unit = (values.get(f"need_{kind}_unit") or "").strip() or None
            needs.append({"kind": kind, "description": description, "amount": amount, "unit": unit})
    properties = {
        "title": values.get("title"),
        "description": values.get("description"),
        "needs": needs,
        "email": values.get("email"),
        "start_date": values.get("start_date"),
    }
    geometry = None
    if source:
        properties["contribution"] = source["id"]
    elif values.get("layer") and values.get("feature"):
        properties["object"] = {"layer": values["layer"], "id": values["feature"]}
    else:
        geometry = _point(values)
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        lon, lat = float(values.get("lon", "")), float(values.get("lat", ""))
    except ValueError:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _initiative(initiative_id: uuid.UUID) -> dict[str, Any]:
    try:
        return json.loads(provider.feature(get_session(), initiative_id))
    except NotFound:
        abort(404)


@bp.get("/initiatieven/<uuid:initiative_id>")
def initiative(initiative_id: uuid.UUID) -> tuple[str, int]:
    return _page(initiative_id, {}, [], 200)


def _page(initiative_id: uuid.UUID, values: dict, errors: list, status: int) -> tuple[str, int]:
    session = get_session()
    feature = _initiative(initiative_id)
    page = render_template(
        "initiatives/page.html",
        feature=feature,
        timeline=service.timeline(session, initiative_id),
        joined=request.args.get("meegedaan") == "1",
        confirm_mail=request.args.get("bevestigen") == "1",
        values=values,
        errors=errors,
        closed=feature["properties"]["status"] in service.CLOSED,
        pact_commitments=commitments.for_initiative(session, initiative_id),
        config=map_config(),
    )
    return page, status


@bp.post("/initiatieven/<uuid:initiative_id>/meedoen")
def join(initiative_id: uuid.UUID) -> Any:
    values = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
    try:
        data = parse_join(values)
        with transaction() as session:
            limit_client(session, "public")
            service.join(session, initiative_id, data, current_language())
    except NotFound:
        abort(404)
    except ApiError as exc:
        return _page(initiative_id, values, exc.errors, exc.status)
    confirm = {"bevestigen": 1} if data.email else {}
    target = url_for("public.initiative", initiative_id=initiative_id, meegedaan=1, **confirm)
    return redirect(target + "#meedoen", 303)


def _private(initiative_id: uuid.UUID, token: str, errors: list, status: int) -> Response:
    session = get_session()
    try:
        row = service.authorise(session, initiative_id, token, lock=False)
    except ApiError:
        abort(404)
    feature = json.loads(provider.feature(session, initiative_id, staff=True))
    page = render_template(
        "initiatives/private.html",
        feature=feature,
        token=token,
        participants=service.participants(session, initiative_id),
        needs=service.needs(session, initiative_id),
        allowed=initiative_workflow.allowed(row.status),
        timeline=service.timeline(session, initiative_id),
        new=request.args.get("new") == "1",
        done=request.args.get("klaar"),
        errors=errors,
    )
    return Response(page, status=status, headers=PRIVATE_HEADERS)


FORM_SLACK = 64 * 1024


@bp.get("/initiatieven/<uuid:initiative_id>/beheer/<token>")
def initiative_private(initiative_id: uuid.UUID, token: str) -> Response:
    return _private(initiative_id, token, [], 200)


@bp.post("/initiatieven/<uuid:initiative_id>/beheer/<token>")
def initiative_private_post(initiative_id: uuid.UUID, token: str) -> Response:
    # An update may carry a photo: the body may be as large as a photo and the form around it.
    request.max_content_length = current_app.config["KAART"].photo_max_bytes + FORM_SLACK
    action = request.form.get("action")
    written: list[Path] = []  # a photo's files, removed again if nothing is committed
    try:
        with transaction() as session:
            service.authorise(session, initiative_id, token)
            _act(session, initiative_id, token, action, written)
    except ApiError as exc:
        photos.discard(tuple(written))
        if exc.status in (401, 403, 404):
            abort(404)
        return _private(initiative_id, token, exc.errors or [_general(exc)], exc.status)
    except BaseException:
        photos.discard(tuple(written))
        raise
    target = url_for(
        "public.initiative_private", initiative_id=initiative_id, token=token, klaar=action
    )
    return redirect(target, 303)


def _general(exc: ApiError) -> Any:
    return FieldError("action", exc.detail, "initiative_action")


def _act(
    session: Any, initiative_id: uuid.UUID, token: str, action: str | None, written: list
) -> None:
    form = request.form
    if action == "update":
        update_id = service.post_update(
            session, initiative_id, token, parse_update_text(form.get("text"))
        )
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            settings = current_app.config["KAART"]
            data = upload.read(settings.photo_max_bytes + 1)
            written.extend(initiative_photos.attach(session, settings, update_id, data))
    elif action == "status":
        initiative_workflow.change_status(
            session, initiative_id, form.get("status", ""), form.get("note", "")
        )
    elif action == "need":
        try:
            need_id = int(form.get("need", ""))
        except ValueError:
            abort(400)
        service.set_fulfilled(session, initiative_id, token, need_id, form.get("done") == "1")
    else:
        abort(400)


@bp.get("/initiatieven/bevestigen/<token>")
def initiative_confirm(token: str) -> str:
    participant_id = initiative_mail.verify_stop(token, initiative_mail.CONFIRM)
    if participant_id is None:
        abort(404)
    with transaction() as session:
        initiative_id = initiative_mail.confirm(session, participant_id)
    if initiative_id is None:
        abort(404)
    return render_template("initiatives/confirmed.html", initiative_id=initiative_id)


@bp.route("/initiatieven/afmelden/<token>", methods=["GET", "POST"])
@csrf_exempt  # RFC 8058: the mail program POSTs here without a form of ours
def initiative_stop(token: str) -> tuple[str, int]:
    participant_id = initiative_mail.verify_stop(token)
    if participant_id is None:
        abort(404)
    if request.method == "GET":
        return render_template("initiatives/stop.html", token=token, stopped=False), 200
    with transaction() as session:
        initiative_mail.stop(session, participant_id)
    return render_template("initiatives/stop.html", token=token, stopped=True), 200


@bp.get("/initiatieven/fotos/<name>")
def initiative_photo(name: str) -> Response:
    """A photo of an initiative's update, while the initiative is public."""
    return send_photo(name, initiative_photos.public_file)


@bp.app_template_global("initiative_photo_name")
def _photo_name(item: Any, thumb: bool = False) -> str:
    """The file name of an update's photo (or its thumbnail) under /initiatieven/fotos/."""
    ext = photos.EXTENSIONS[item.photo_media_type]
    return f"{item.photo_id}{'.thumb' if thumb else ''}.{ext}"
