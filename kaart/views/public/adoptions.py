"""Adopting public space: /adopteren?layer=<layer>&feature=<id> offers to look after a BGT green
area, a tree or a playground object (a form; staff decide in /beheer/adopties)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.i18n import current_language
from kaart.models.adoption import FREQUENCIES
from kaart.services import adoptions
from kaart.views.public import bp
from kaart.views.public.pages import map_config
from kaart.web import limit_client


@bp.route("/adopteren", methods=["GET", "POST"])
def adopt() -> tuple[str, int]:
    values: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    values.pop("csrf_token", None)
    try:
        target = adoptables(values)
    except ApiError:
        abort(404)
    if request.method == "GET":
        return _form(values, target, [], 200)
    try:
        data = adoptions.parse_offer(values)
        with transaction() as session:
            limit_client(session, "public")
            adoptions.offer(session, data, current_language())
    except ApiError as exc:
        return _form(values, target, exc.errors, exc.status)
    return render_template("initiatives/adopt_sent.html", target=target), 200


def adoptables(values: dict[str, Any]) -> dict[str, Any]:
    session = get_session()
    target = adoptions.adoptable(session, values.get("layer", ""), values.get("feature", ""))
    target["current"] = adoptions.adoptions_of(session, target["layer"], target["feature"])
    return target


def _form(values: dict, target: dict, errors: list, status: int) -> tuple[str, int]:
    page = render_template(
        "initiatives/adopt.html",
        values=values,
        target=target,
        errors=errors,
        frequencies=FREQUENCIES,
        config=map_config(),
    )
    return page, status
