"""Conditional GET (RFC 9110 §13), one way for every answer with a cheap validator: the vector
tiles, OGC API items and the /api/v1 lists.

    return conditional.answer(tag, conditional.REVALIDATE, lambda: collection(page()))

The tag is made from what the answer depends on before the answer is built (an open layer's
load, or kaart/providers/versions.py), so a client whose copy is current gets its 304 without
the answer's queries being run.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request
from werkzeug.http import parse_etags

# Asked again before every use, by browsers and proxies alike: for answers that must show a
# change at once (the map shows a resident's own contribution); a current copy costs a 304.
REVALIDATE = "no-cache"


def answer(
    tag: str,
    cache: str,
    build: Callable[[], Response],
    *,
    weak: bool = False,
    vary: str | None = None,
) -> Response:
    """`build()` with `ETag` and `Cache-Control`, or 304 when If-None-Match names `tag`.
    `weak`: the same data in a body that is not byte for byte the same (a time stamp)."""
    headers = validators(tag, cache, weak=weak, vary=vary)
    if is_current(request.headers.get("If-None-Match"), tag):
        return Response(status=304, headers=headers)
    response = build()
    response.headers.update(headers)
    return response


def validators(
    tag: str, cache: str, *, weak: bool = False, vary: str | None = None
) -> dict[str, str]:
    """The headers that go with every answer about `tag`, 304 or not."""
    headers = {"ETag": f'W/"{tag}"' if weak else f'"{tag}"', "Cache-Control": cache}
    if vary:
        headers["Vary"] = vary
    return headers


def is_current(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag`, as `answer` decides it. It compares weakly
    (RFC 9110 §13.1.2): W/"x" and "x" both match x."""
    return parse_etags(if_none_match).contains_weak(tag)
