"""Following by e-mail, and the pages the links in messages open.

/volgen                        follow a contribution, process, buurt or area (form)
/stuur-mijn-links              mail me the private links of my contributions
/e-mail/bevestigen/<token>     the confirmation link (double opt-in)
/e-mail/afmelden/<token>       unsubscribe: a page with a button, or one POST (RFC 8058)
/e-mail/volgen/<token>         what this address follows; stop one or all
/e-mail/tevreden/<token>       the question four weeks after the outcome
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import abort, current_app, render_template, request

from kaart.auth import csrf_exempt
from kaart.db import get_session, transaction
from kaart.errors import ApiError, FieldError, invalid
from kaart.geo import limits_for
from kaart.i18n import current_language
from kaart.mail import addresses, follow, links
from kaart.mail.notify import secret
from kaart.views.public import bp
from kaart.views.public.pages import map_config
from kaart.web import limit_client

TARGET_FIELDS = ("contribution", "process", "buurt")
RADII = (100, 250, 500, 1000)


def _token(purpose: str, value: str) -> uuid.UUID:
    ident = links.verify(secret(), purpose, value)
    if ident is None:
        abort(404)
    return ident


@bp.route("/volgen", methods=["GET", "POST"])
def follow_page() -> tuple[str, int]:
    values: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    values.pop("csrf_token", None)
    context = _follow_context(values)
    if request.method == "GET":
        return render_template("follow/follow.html", errors=[], values=values, **context), 200
    try:
        body = _follow_body(values)
        address = _required(values.get("email"))
        frequency = follow.parse_frequency(values.get("frequency"))
        language = addresses.language(values.get("language")) or current_language()
        with transaction() as session:
            target = follow.parse_target(session, body, limits_for(current_app.config["KAART"]))
            limit_client(session, "public")
            follow.follow(session, address, language, frequency, target)
    except ApiError as exc:
        errors = exc.errors or [_as_field(exc)]
        page = render_template("follow/follow.html", errors=errors, values=values, **context)
        return page, exc.status
    return render_template("follow/sent.html", kind="follow"), 200


def _as_field(exc: ApiError) -> FieldError:
    return FieldError("target", exc.detail, "target_unknown")


def _follow_body(values: dict[str, Any]) -> dict[str, Any]:
    """The form as the API's body: one target (hidden field, buurt chosen, or a circle)."""
    body = {name: values[name] for name in TARGET_FIELDS if values.get(name)}
    if not body and values.get("near_lon"):
        body["near"] = {
            "lon": values.get("near_lon"),
            "lat": values.get("near_lat"),
            "radius": values.get("radius"),
        }
    if not body and values.get("area"):
        try:
            body["area"] = json.loads(values["area"])
        except ValueError:
            raise invalid("area", "The area is not GeoJSON.", "area_not_polygon") from None
    return body


def _follow_context(values: dict[str, Any]) -> dict[str, Any]:
    session = get_session()
    context: dict[str, Any] = {"radii": RADII, "what": None}
    if values.get("contribution") or values.get("process"):
        try:
            limits = limits_for(current_app.config["KAART"])
            target = follow.parse_target(session, _follow_body(values), limits)
        except ApiError:
            abort(404)
        context["what"] = follow.target_title(session, target)
    context["buurten"] = follow.buurten(session)
    context["map_center"] = list(current_app.config["KAART"].map_center)
    context["config"] = map_config()  # the base map and its attribution, as on every map page
    return context


def _required(value: Any) -> str:
    address = addresses.parse(value)
    if address is None:
        raise invalid("email", "An e-mail address is needed.", "email_missing")
    return address


@bp.route("/stuur-mijn-links", methods=["GET", "POST"])
def send_links_page() -> tuple[str, int]:
    values = {"email": request.form.get("email", "")}
    if request.method == "GET":
        return render_template("follow/links.html", errors=[], values=values), 200
    try:
        address = _required(values["email"])
        with transaction() as session:
            limit_client(session, "public")
            follow.send_links(session, address, current_language())
    except ApiError as exc:
        page = render_template("follow/links.html", errors=exc.errors, values=values)
        return page, exc.status
    return render_template("follow/sent.html", kind="links"), 200


@bp.get("/e-mail/bevestigen/<token>")
def confirm(token: str) -> str:
    subscription_id = _token("confirm", token)
    with transaction() as session:
        what = follow.confirm(session, subscription_id)
        if what is None:
            abort(404)
        address_id = follow.address_of_subscription(session, subscription_id)
    manage = links.token(secret(), "manage", address_id)
    return render_template("follow/confirmed.html", what=what, manage=manage)


@bp.route("/e-mail/afmelden/<token>", methods=["GET", "POST"])
@csrf_exempt
def unsubscribe(token: str) -> str:
    subscription_id = _token("unsubscribe", token)
    if request.method == "GET":
        session = get_session()
        address_id = follow.address_of_subscription(session, subscription_id)
        what = follow.describe(session, subscription_id) if address_id else None
        return render_template("follow/unsubscribe.html", what=what, token=token)
    with transaction() as session:
        follow.unsubscribe(session, subscription_id)
    return render_template("follow/unsubscribed.html")


@bp.route("/e-mail/volgen/<token>", methods=["GET", "POST"])
@csrf_exempt
def manage(token: str) -> str:
    """What the address follows. A POST with `stop` = a subscription id ends that one; any
    other POST (the one-click of a message about all of them) ends all."""
    address_id = _token("manage", token)
    stopped = None
    if request.method == "POST":
        with transaction() as session:
            stopped = _stop(session, address_id, request.form.get("stop", "all"))
    items = follow.following(get_session(), address_id)
    return render_template("follow/manage.html", items=items, token=token, stopped=stopped)


def _stop(session, address_id: uuid.UUID, which: str) -> int:
    if which == "all":
        return follow.stop_all(session, address_id)
    try:
        subscription_id = uuid.UUID(which)
    except ValueError:
        abort(400)
    if follow.address_of_subscription(session, subscription_id) != address_id:
        abort(404)
    return int(follow.unsubscribe(session, subscription_id))


@bp.route("/e-mail/medewerker/<token>", methods=["GET", "POST"])
@csrf_exempt
def staff_digest(token: str) -> str:
    """A staff member stops (or, with `aan`, restarts) the daily digest: one click, no login."""
    user_id = _token("staff", token)
    on = None
    if request.method == "POST":
        on = request.form.get("aan") == "1"
        with transaction() as session:
            follow.set_staff_digest(session, user_id, on)
    return render_template("follow/staff_digest.html", token=token, on=on)


@bp.route("/e-mail/tevreden/<token>", methods=["GET", "POST"])
def satisfaction(token: str) -> tuple[str, int]:
    contribution_id = _token("satisfaction", token)
    answer = request.values.get("antwoord")
    if request.method == "GET" or answer not in ("ja", "nee"):
        page = render_template("follow/satisfaction.html", token=token, answer=answer)
        return page, 200
    try:
        with transaction() as session:
            follow.answer_satisfaction(session, contribution_id, answer == "ja")
    except ApiError as exc:
        if exc.status == 404:
            abort(404)
        return render_template("follow/satisfaction.html", token=token, answered=True), 409
    return render_template("follow/satisfaction.html", token=token, thanks=answer), 200
