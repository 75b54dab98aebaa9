"""Downloads for staff: exports of the filtered selection, and the reactienota of a process.
Each download is written to the audit log (who, which filter or process, which format)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

from flask import Response, redirect, render_template, request, url_for

from kaart.auth import current_user, login_required
from kaart.db import get_session, streamed, transaction
from kaart.errors import not_found
from kaart.i18n import translate
from kaart.models.contribution import CATEGORIES, STATUSES
from kaart.services import audit, exports, overview, processes, reactienota
from kaart.views.beheer import STAFF, bp
from kaart.views.beheer.participation import section as who_takes_part
from kaart.web import client_key


def _download(data: bytes | Iterator[bytes], mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/export.<fmt>")
@login_required(*STAFF)
def export(fmt: str) -> Response:
    if fmt not in exports.FORMATS:
        raise not_found("This export format")
    filters = overview.parse_filters(request.args)
    user = current_user()
    audience = exports.Audience(
        admin=user is not None and "admin" in user.roles,
        exact=user is not None and user.sees_exact_location,
    )
    pairs = filters.query_args()
    filter_values = {name: [v for n, v in pairs if n == name] for name, _v in pairs}
    # Recorded before the first byte is sent: no download without its audit entry.
    _record("export.downloaded", {"format": fmt, "filters": filter_values})
    pieces = streamed(lambda session: exports.export(session, filters, audience, fmt))
    mimetype, ext = exports.FORMATS[fmt]
    filename = f"wijkkaart-bijdragen-{date.today().isoformat()}.{ext}"
    return _download(pieces, mimetype, filename)


def _record(action: str, details: dict) -> None:
    with transaction() as session:
        audit.record(session, action, actor=current_user(), address=client_key(), details=details)


def _labels() -> dict[str, str]:
    labels = {f"category.{c}": translate(f"category.{c}") for c in CATEGORIES}
    labels["no_buurt"] = translate("outputs.reactienota.no_buurt")
    labels["area"] = translate("outputs.reactienota.map_area")
    return labels


def render_report(process_id: uuid.UUID) -> tuple[str, reactienota.Report]:
    """The reactienota as HTML in the request's language (also used by `kaart reactienota`)."""
    report = reactienota.build(get_session(), process_id, _labels())
    html = render_template(
        "reactienota/report.html",
        report=report,
        categories=reactienota.category_order(report),
        all_categories=CATEGORIES,
        statuses=STATUSES,
        summary=reactienota.summary,
        # Published input only, like the rest of the reactienota; no CSV link in a report.
        **who_takes_part(process_id, public_only=True, csv=False),
    )
    return html, report


@bp.get("/reactienota/<uuid:process_id>")
@login_required(*STAFF)
def report_html(process_id: uuid.UUID) -> Response:
    html, report = render_report(process_id)
    _record_report(report, "html")
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/reactienota/<uuid:process_id>.pdf")
@login_required(*STAFF)
def report_pdf(process_id: uuid.UUID) -> Response:
    html, report = render_report(process_id)
    filename = f"reactienota-{report.process.slug}.pdf"
    data = reactienota.pdf(html)
    _record_report(report, "pdf")
    return _download(data, "application/pdf", filename)


@bp.post("/reactienota/<uuid:process_id>/publiceren")
@login_required("planner")
def report_publish(process_id: uuid.UUID) -> Response:
    with transaction() as session:
        processes.publish_reactienota(session, process_id)
        audit.record(
            session,
            "reactienota.published",
            actor=current_user(),
            address=client_key(),
            details={"process_id": str(process_id)},
        )
    return redirect(url_for("beheer.overview") + "#reactienota-title", code=303)


def _record_report(report: reactienota.Report, fmt: str) -> None:
    details = {"process_id": str(report.process.id), "process": report.process.slug}
    _record("reactienota.downloaded", {**details, "format": fmt})
