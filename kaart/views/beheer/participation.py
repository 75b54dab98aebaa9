"""The "Wie doet er mee?" section of /beheer/overzicht and the reactienota, and its CSV."""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Any

from flask import Response, url_for

from kaart.auth import current_user, login_required
from kaart.db import get_session, transaction
from kaart.i18n import translate
from kaart.services import audit, participation
from kaart.services.participation_csv import csv_text
from kaart.services.reactienota import process_row
from kaart.views.beheer import STAFF, bp
from kaart.web import client_key


def labels() -> dict[str, str]:
    keys = ("whole", "elsewhere", "small", "secondary")
    return {key: translate(f"participation.{key}") for key in keys}


def pct(share: float) -> str:
    return f"{round(share * 100)} %"


def sentences(found: participation.Monitor) -> list[str]:
    """The under-represented buurten and groups in words (B1)."""
    said = []
    for f in found.findings:
        if f.group is None:
            said.append(
                translate(
                    "participation.finding.buurt",
                    area=f.area,
                    rate=f"{f.per_1000:.1f}",
                    whole=f"{f.area_per_1000:.1f}",
                )
            )
            continue
        share = f"{math.ceil(f.share * 100)} %" if f.below else pct(f.share)
        if f.below:
            share = translate("participation.finding.less_than", pct=share)
        said.append(
            translate(
                "participation.finding.group",
                group=translate(f"participation.group.{f.group}"),
                area=f.area,
                input=share,
                residents=pct(f.residents),
            )
        )
    return said


def section(process_id: uuid.UUID | None, *, public_only: bool, csv: bool) -> dict[str, Any]:
    """The template context of _participation.html; no monitor without a process."""
    if process_id is None:
        return {"monitor": None, "sentences": [], "pct": pct, "csv_url": None}
    found = participation.monitor(
        get_session(), process_id, public_only=public_only, labels=labels()
    )
    csv_url = url_for("beheer.participation_csv", process_id=process_id) if csv else None
    return {"monitor": found, "sentences": sentences(found), "pct": pct, "csv_url": csv_url}


@bp.get("/overzicht/wie-doet-mee/<uuid:process_id>.csv")
@login_required(*STAFF)
def participation_csv(process_id: uuid.UUID) -> Response:
    process = process_row(get_session(), process_id)  # 404 for an unknown process
    found = participation.monitor(get_session(), process_id, public_only=False, labels=labels())
    body = csv_text(found, labels())
    with transaction() as session:  # no download without its audit entry
        details = {"process_id": str(process_id), "process": process.slug, "format": "csv"}
        audit.record(
            session,
            "participation.downloaded",
            actor=current_user(),
            address=client_key(),
            details=details,
        )
    filename = f"wie-doet-mee-{process.slug}-{date.today().isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
