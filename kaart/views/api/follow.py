"""/api/v1/subscriptions: follow a contribution, process, buurt or area by e-mail;
/api/v1/links: mail me the private links of my contributions. Both answer 202 and the same
whether or not the address is known; what happens next happens in the mailbox."""

from __future__ import annotations

from flask import Response, current_app

from kaart.db import transaction
from kaart.errors import invalid
from kaart.geo import limits_for
from kaart.i18n import current_language
from kaart.mail import addresses, follow
from kaart.views.api import bp
from kaart.views.api.io import as_json, read_json
from kaart.web import limit_client


def _body() -> dict:
    body = read_json()
    if not isinstance(body, dict):
        raise invalid("body", "The body must be a JSON object.", "body_not_object")
    return body


@bp.post("/subscriptions")
def create_subscription() -> Response:
    body = _body()
    address = _required_address(body)
    language = addresses.language(body.get("language")) or current_language()
    frequency = follow.parse_frequency(body.get("frequency"))
    with transaction() as session:
        target = follow.parse_target(session, body, limits_for(current_app.config["KAART"]))
        limit_client(session, "public")
        follow.follow(session, address, language, frequency, target)
    detail = "We sent a message to confirm; follow its link to start receiving updates."
    return as_json({"status": "confirmation_sent", "detail": detail}, 202)


@bp.post("/links")
def send_links() -> Response:
    body = _body()
    address = _required_address(body)
    language = addresses.language(body.get("language")) or current_language()
    with transaction() as session:
        limit_client(session, "public")
        follow.send_links(session, address, language)
    detail = "If this address sent contributions in the last 12 months, their links are on the way."
    return as_json({"status": "accepted", "detail": detail}, 202)


def _required_address(body: dict) -> str:
    address = addresses.parse(body.get("email"))
    if address is None:
        raise invalid("email", "An e-mail address is needed.", "email_missing")
    return address
