"""/beheer/e-mail: for admins, the outbox's state and the messages that could not be sent,
with a button to send them again (after the mail server was fixed)."""

from __future__ import annotations

from flask import render_template, request

from kaart.auth import login_required
from kaart.db import get_session, transaction
from kaart.mail import worker
from kaart.views.beheer import bp


@bp.route("/e-mail", methods=["GET", "POST"], endpoint="mail")
@login_required("admin")
def mail_outbox() -> str:
    retried = None
    if request.method == "POST":
        which = request.form.get("retry", "all")
        with transaction() as session:
            retried = worker.retry(session, None if which == "all" else _id(which))
    session = get_session()
    return render_template(
        "beheer/mail.html",
        counts=worker.state(session),
        dead=worker.dead_letters(session),
        retried=retried,
    )


def _id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return -1  # no such message: nothing is retried
