"""/beheer/audit: the append-only audit log for admins, filtered and paged, and as CSV."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from flask import current_app, render_template, request
from werkzeug.wrappers import Response

from kaart.auth import login_required
from kaart.db import get_session, streamed, transaction
from kaart.services import audit
from kaart.views.beheer import bp
from kaart.views.beheer.users import record


@bp.get("/audit")
@login_required("admin")
def audit_log() -> str:
    filters = audit.parse_filters(request.args)
    retention = current_app.config["KAART"].audit_retention_days
    with transaction() as session:
        # Opening the log also applies the retention (cron can run `kaart audit purge` too).
        audit.purge(session, timedelta(days=retention))
    found = audit.page(get_session(), filters, request.args.get("cursor") or None)
    return render_template(
        "beheer/audit.html",
        filters=filters,
        query=urlencode(filters.query_args()),
        page=found,
        actions=audit.ALL_ACTIONS,
        retention=retention,
    )


@bp.get("/audit.csv")
@login_required("admin")
def audit_csv() -> Response:
    filters = audit.parse_filters(request.args)
    with transaction() as session:
        record(session, "audit.downloaded", {"filters": dict(filters.query_args())})
    body = streamed(lambda session: audit.csv_chunks(session, filters))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="wijkkaart-audit-{date.today()}.csv"',
            "Cache-Control": "no-store",
        },
    )
