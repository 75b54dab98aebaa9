"""One checker for every text a request carries: path, query parameters, form fields and JSON.

What is never accepted anywhere: NUL and the other C0 control characters except tab, newline and
carriage return (browsers send a textarea's line breaks as CR LF), DEL, the C1 controls
(U+0080–U+009F), lone UTF-16 surrogates (which cannot be stored as UTF-8), and JSON nested more
than MAX_JSON_DEPTH levels. The same input gets the same answer on every route:

    path or query parameter   400  field "path" or the parameter's name
    a form field              422  the field's name
    JSON text                 422  the dotted path, e.g. "properties.title" or "n.3"
    JSON nested too deeply    400  "body" (or the form field holding the JSON), json_too_deep

It runs before any view (and so before any rate limit counts the request); views that read JSON
out of a form field use `load_json` for the same checks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, g, request

from kaart.errors import BadRequest, Invalid

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_JSON_DEPTH = 20
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
REASONS = {
    "text_control_chars": "Text must not contain control characters (such as NUL, U+0000).",
    "text_not_unicode": "Text must be valid Unicode (no lone surrogates such as \\ud800).",
}


def text_problem(value: str) -> str | None:
    """The code of what is wrong with `value`, or None when it may be stored."""
    if CONTROL.search(value):
        return "text_control_chars"
    if SURROGATE.search(value):
        return "text_not_unicode"
    return None


def json_problem(value: Any) -> tuple[str, str] | None:
    """(dotted path, code) of the first bad key or string in parsed JSON, or of nesting deeper
    than MAX_JSON_DEPTH; None when all is well."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if code := text_problem(item):
                return _dotted(path), code
        elif isinstance(item, dict | list):
            if len(path) >= MAX_JSON_DEPTH:
                return _dotted(path), "json_too_deep"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and (code := text_problem(key)):
                    return _dotted((*path, _printable(key))), code
                if isinstance(child, str | dict | list):
                    stack.append((child, (*path, str(key))))
    return None


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path) or "body"


def _printable(key: str) -> str:
    return SURROGATE.sub("", CONTROL.sub("", key))


def load_json(raw: bytes | str, field: str = "body", *, in_query: bool = False) -> Any:
    """Parse JSON text and check it like every other input: 400 for JSON that cannot be read
    (or is nested too deeply), 422 naming the path of a bad string (400 when the JSON came in
    a query parameter, like any other bad parameter)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BadRequest("The request body is not UTF-8 text.", field, "malformed_json") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        raise BadRequest(reason, field, "malformed_json") from exc
    except (ValueError, RecursionError) as exc:
        raise _too_deep(field) from exc
    if found := json_problem(value):
        path, code = found
        if code == "json_too_deep":
            raise _too_deep(field)
        where = path if field == "body" else f"{field}.{path}" if path != "body" else field
        raise (BadRequest if in_query else Invalid)(REASONS[code], where, code)
    return value


def _too_deep(field: str) -> BadRequest:
    reason = f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep or has a number too large."
    return BadRequest(reason, field, "json_too_deep")


def request_json() -> Any:
    """The request's JSON body, parsed and checked once per request."""
    if "checked_json" not in g:
        g.checked_json = load_json(request.get_data(cache=True))
    return g.checked_json


def check_request() -> None:
    """Refuse a request carrying text that must not be stored (see the module docstring)."""
    if code := text_problem(request.path):
        raise BadRequest(REASONS[code], "path", code)
    for key, value in request.args.items(multi=True):
        if code := text_problem(key) or text_problem(value):
            raise BadRequest(REASONS[code], _printable(key) or "query", code)
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype in _FORMS:
        for key, value in request.form.items(multi=True):
            if code := text_problem(key) or text_problem(value):
                raise Invalid(REASONS[code], _printable(key) or "form", code)
    elif request.is_json and request.get_data(cache=True).strip():
        request_json()


def init_app(app: Flask) -> None:
    app.before_request(check_request)
