"""Atom feeds of public contributions (kaart/services/feeds.py): per buurt, participation
process and category, and one contribution's history. In the page's language (`?lang=`)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from flask import Response, render_template, request, url_for

from kaart.db import get_read_session
from kaart.i18n import current_language
from kaart.services import feeds
from kaart.views.public import bp

ATOM = "application/atom+xml; charset=utf-8"


@bp.get("/feeds/buurten/<code>.atom")
def buurt_feed(code: str) -> Response:
    feed = feeds.buurt(get_read_session(), code)
    return _atom(feed, url_for("public.index", **_lang()))


@bp.get("/feeds/trajecten/<slug>.atom")
def process_feed(slug: str) -> Response:
    feed = feeds.process(get_read_session(), slug)
    return _atom(feed, url_for("public.process", slug=slug, **_lang()))


@bp.get("/feeds/categorieen/<category>.atom")
def category_feed(category: str) -> Response:
    feed = feeds.category(get_read_session(), category)
    return _atom(feed, url_for("public.index", **_lang()))


@bp.get("/bijdragen/<uuid:contribution_id>/feed.atom")
def contribution_feed(contribution_id: uuid.UUID) -> Response:
    feed = feeds.contribution(get_read_session(), contribution_id)
    return _atom(feed, url_for("public.contribution", contribution_id=contribution_id, **_lang()))


def _lang() -> dict[str, object]:
    """Links in a feed open the pages in the feed's language; they are absolute (RFC 4287)."""
    return {"lang": current_language(), "_external": True}


def _atom(feed: feeds.Feed, page: str) -> Response:
    body = render_template(
        "feeds/feed.xml",
        feed=feed,
        page=page,
        self_url=url_for(request.endpoint or "", **(request.view_args or {}), **_lang()),
        lang=current_language(),
    )
    # Readers poll: they keep their copy and ask whether it changed (ETag -> 304). The
    # language may come from the cookie, so a shared cache must not mix them.
    tag = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"ETag": f'W/"{tag}"', "Cache-Control": "no-cache", "Vary": "Cookie"}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    return Response(body, content_type=ATOM, headers=headers)


@bp.app_template_filter("rfc3339")
def rfc3339(value: datetime) -> str:
    """A moment as Atom dates it (RFC 3339), in UTC: "2026-09-10T07:00:00Z"."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
