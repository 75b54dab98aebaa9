"""Errors that carry an HTTP status and a message safe to show, rendered as RFC 9457 problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"


class ConfigError(RuntimeError):
    """A KAART_* setting is missing or wrong; raised at start-up, before serving anything."""


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
