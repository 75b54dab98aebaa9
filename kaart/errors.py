"""Errors that carry an HTTP status and a message safe to show, rendered as RFC 9457 problems.

Raise the typed ones; each names the part of the request that is wrong when there is one:

    raise BadRequest("limit must be a number from 1 to 1000.", "limit", "limit_invalid")
    raise Invalid("The title is empty.", "properties.title", "title_missing")
    raise NotFound("This contribution")            # "... does not exist"
    raise TooManyRequests("actions", retry_after=120)
    raise Unavailable("The database is not reachable.")

How an error looks on the wire is decided by the blueprint that served the request (problem+json
for the API, a page for people, GeoReport v2's own list for Open311; kaart/errors_http.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"


class ConfigError(RuntimeError):
    """A KAART_* setting is missing or wrong; raised at start-up, before serving anything."""


class CatalogueError(RuntimeError):
    """The layer catalogue names a table or column the loader never writes (edited by hand):
    nothing a client can fix, so a logged 500."""


@dataclass
class FieldError:
    """One reason, tied to the part of the request it is about (a JSON pointer-like path)."""

    field: str
    reason: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "code": self.code}


@dataclass
class ApiError(Exception):
    """An error a client can act on. ``title`` is generic, ``detail`` specific to this request."""

    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    type: str = "about:blank"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    def as_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]


class _Typed(ApiError):
    """An ApiError whose status and title come from its class."""

    STATUS = 500
    TITLE = "Internal server error"

    def __init__(
        self,
        reason: str = "",
        field_name: str | None = None,
        code: str | None = None,
        *,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        found = list(errors or [])
        if field_name is not None and code is not None:
            found.insert(0, FieldError(field_name, reason, code))
        super().__init__(
            status=self.STATUS,
            title=title or self.TITLE,
            detail=reason,
            errors=found,
            headers=dict(headers or {}),
        )


class BadRequest(_Typed):
    """A parameter, header or body that cannot be read (400)."""

    STATUS, TITLE = 400, "Bad request"


class Unauthorized(_Typed):
    """Credentials are needed (401)."""

    STATUS, TITLE = 401, "Unauthorized"


class Forbidden(_Typed):
    """The credentials do not allow this (403)."""

    STATUS, TITLE = 403, "Forbidden"


class NotFound(_Typed):
    """`what` does not exist (404): ``NotFound("This contribution")``, or with a whole
    sentence: ``NotFound(reason="No PC4 areas are loaded.")``."""

    STATUS, TITLE = 404, "Not found"

    def __init__(self, what: str = "This", *, reason: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("field_name", None)
        super().__init__(reason or f"{what} does not exist", **kwargs)


class Conflict(_Typed):
    """The request collides with the current state (409)."""

    STATUS, TITLE = 409, "Conflict"


class Gone(_Typed):
    """It existed and was taken away (410)."""

    STATUS, TITLE = 410, "Gone"


class PayloadTooLarge(_Typed):
    """The body is larger than allowed (413)."""

    STATUS, TITLE = 413, "Payload too large"


class UnsupportedMediaType(_Typed):
    """A body in a format this route does not take (415)."""

    STATUS, TITLE = 415, "Unsupported media type"


class Invalid(_Typed):
    """The request parsed but breaks a rule about one field (422)."""

    STATUS, TITLE = 422, "Unprocessable content"


class TooManyRequests(_Typed):
    """A rate limit; ``retry_after`` seconds until the next attempt may succeed (429)."""

    STATUS, TITLE = 429, "Too many requests"

    def __init__(self, what: str = "requests", retry_after: int = 60, **kwargs: Any) -> None:
        reason = f"Too many {what} from here; wait a while and try again."
        kwargs.setdefault("headers", {})["Retry-After"] = str(max(1, int(retry_after)))
        super().__init__(reason, "rate", "rate_limited", **kwargs)


class Unavailable(_Typed):
    """A dependency (the database) is down or overloaded; try again later (503)."""

    STATUS, TITLE = 503, "Service unavailable"
    RETRY_AFTER = 5

    def __init__(self, reason: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {}).setdefault("Retry-After", str(self.RETRY_AFTER))
        super().__init__(reason, "service", "unavailable", **kwargs)


def invalid(field_name: str, reason: str, code: str, status: int = 422) -> ApiError:
    """A request that parsed but breaks a rule about one field."""
    return ApiError(
        status=status,
        title="Invalid contribution" if status == 422 else "Bad request",
        detail=reason,
        errors=[FieldError(field_name, reason, code)],
    )


def not_found(what: str) -> ApiError:
    return ApiError(status=404, title="Not found", detail=f"{what} does not exist")
