"""/beheer/wijkpact: planners make parties, partner accounts' memberships, pacts and
commitments (with their places drawn on a map); partners post progress on their own party's
commitments (and are refused on anyone else's)."""

from __future__ import annotations

import json
import uuid

from flask import current_app, flash, redirect, render_template, request, url_for

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.errors import ApiError
from kaart.models.pact import PARTY_TYPES, THEMES, UPDATE_STATUSES
from kaart.providers import commitments as provider
from kaart.services import audit, commitments, pacts
from kaart.views.beheer import bp
from kaart.views.public.pages import map_config
from kaart.web import client_key

MANAGE = ("planner", "partner")  # and admin


def _index(status: int = 200, **extra):
    session = get_session()
    user = current_user()
    own = pacts.parties_of(session, user.id)
    page = render_template(
        "beheer/pacts.html",
        pacts=pacts.all_pacts(session, public_only=False),
        parties=pacts.all_parties(session),
        members=pacts.members(session) if user.has_role("planner") else {},
        partners=pacts.partner_accounts(session) if user.has_role("planner") else [],
        own=own,
        party_types=PARTY_TYPES,
        errors=extra.pop("errors", []),
        values=extra.pop("values", {}),
        **extra,
    )
    return page, status


@bp.get("/wijkpact", endpoint="pacts")
@login_required(*MANAGE)
def pacts_index():
    return _index()


@bp.post("/wijkpact/partijen", endpoint="party_new")
@login_required("planner")
def party_new():
    upload = request.files.get("logo")
    logo = upload.read() if upload and upload.filename else None
    try:
        with transaction() as session:
            pacts.create_party(
                session,
                current_app.config["KAART"],
                request.form.get("name", ""),
                request.form.get("type", ""),
                logo,
            )
    except ApiError as error:
        return _index(422, errors=error.errors, values=request.form, form="party")
    flash("pact.flash.party_saved", "success")
    return redirect(url_for("beheer.pacts") + "#parties-title", code=303)


@bp.post("/wijkpact/leden", endpoint="party_member_add")
@login_required("planner")
def party_member_add():
    try:
        with transaction() as session:
            pacts.add_member(
                session,
                _uuid(request.form.get("party_id")),
                _uuid(request.form.get("user_id")),
            )
    except ApiError as error:
        return _index(error.status, errors=error.errors, values=request.form, form="member")
    flash("pact.flash.member_saved", "success")
    return redirect(url_for("beheer.pacts") + "#members-title", code=303)


@bp.route("/wijkpact/nieuw", methods=["GET", "POST"], endpoint="pact_new")
@login_required("planner")
def pact_new():
    session = get_session()
    errors, values = [], {}
    if request.method == "POST":
        try:
            with transaction() as session:
                slug = pacts.create_pact(session, request.form, current_user().id)
        except ApiError as error:
            errors, values = error.errors, request.form
        else:
            flash("pact.flash.pact_saved", "success")
            return redirect(url_for("beheer.pact_manage", slug=slug), code=303)
    config = map_config()
    page = render_template(
        "beheer/pact_form.html",
        parties=pacts.all_parties(session),
        buurten=pacts.buurten(session),
        errors=errors,
        values=values,
        config=config,
    )
    return page, 422 if errors else 200


@bp.get("/wijkpact/<slug>", endpoint="pact_manage")
@login_required(*MANAGE)
def pact_manage(slug: str):
    return _manage(slug)


def _manage(slug: str, status: int = 200, **extra):
    session = get_session()
    pact = pacts.find(session, slug, public_only=False)
    user = current_user()
    page = render_template(
        "beheer/pact.html",
        pact=pact,
        items=provider.rows(session, pact.id),
        own=pacts.parties_of(session, user.id),
        planner=user.has_role("planner"),
        statuses=UPDATE_STATUSES,
        allowed=commitments.allowed,
        errors=extra.pop("errors", []),
        values=extra.pop("values", {}),
        **extra,
    )
    return page, status


@bp.route("/wijkpact/<slug>/afspraken/nieuw", methods=["GET", "POST"], endpoint="commitment_new")
@login_required("planner")
def commitment_new(slug: str):
    session = get_session()
    pact = pacts.find(session, slug, public_only=False)
    errors, values = [], {}
    if request.method == "POST":
        try:
            with transaction() as session:
                commitments.create(session, pact, request.form, current_user().id)
        except ApiError as error:
            errors, values = error.errors, request.form
        else:
            flash("pact.flash.commitment_saved", "success")
            return redirect(url_for("beheer.pact_manage", slug=slug), code=303)
    config = map_config()
    config["pactArea"] = json.loads(pact.geojson)
    page = render_template(
        "beheer/commitment_form.html",
        pact=pact,
        themes=THEMES,
        errors=errors,
        values=values,
        config=config,
    )
    return page, 422 if errors else 200


@bp.post("/wijkpact/<slug>/zichtbaarheid", endpoint="pact_visibility")
@login_required("planner")
def pact_visibility(slug: str):
    """Take a pact off the public site (or put it back); the audit log keeps who did."""
    pact = pacts.find(get_session(), slug, public_only=False)
    published = request.form.get("published") == "ja"
    with transaction() as session:
        if pacts.set_published(session, pact.id, published):
            audit.record(
                session,
                "pact.published" if published else "pact.unpublished",
                actor=current_user(),
                address=client_key(),
                details={"pact": pact.slug},
            )
    flash("pact.flash.published" if published else "pact.flash.unpublished", "success")
    return redirect(url_for("beheer.pact_manage", slug=slug) + "#visibility-title", code=303)


@bp.post("/afspraken/<uuid:commitment_id>/voortgang", endpoint="commitment_update")
@login_required(*MANAGE)
def commitment_update(commitment_id: uuid.UUID):
    """A progress update; refused with 403 for a partner of another party (by the service)."""
    current = commitments.find(get_session(), commitment_id)
    try:
        with transaction() as session:
            commitments.post_update(session, commitment_id, current_user(), request.form)
    except ApiError as error:
        if error.status == 403:
            raise
        return _manage(
            current.pact_slug,
            error.status,
            errors=error.errors,
            values=request.form,
            failed=commitment_id,
        )
    flash("pact.flash.update_saved", "success")
    target = url_for("beheer.pact_manage", slug=current.pact_slug) + f"#c-{commitment_id}"
    return redirect(target, code=303)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)  # matches nothing: the service says what is missing
