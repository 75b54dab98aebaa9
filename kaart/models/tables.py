"""Every table of the schema by its SQL name: `from kaart.models import tables as t`, then
`t.contribution.c.status`. Each table is declared in its domain module beside its constants."""

from kaart.models.audit import audit_event
from kaart.models.buurt import buurt
from kaart.models.contribution import contribution, contribution_event
from kaart.models.dialogue import comment, report, standard_response, support
from kaart.models.idempotency import idempotency_key
from kaart.models.layer import layer
from kaart.models.open311 import open311_request
from kaart.models.participant import participant_answer
from kaart.models.photo import photo
from kaart.models.process import process
from kaart.models.ratelimit import rate_event
from kaart.models.solar import solar_potential
from kaart.models.user import app_user

__all__ = [
    "app_user",
    "audit_event",
    "buurt",
    "comment",
    "contribution",
    "contribution_event",
    "idempotency_key",
    "layer",
    "open311_request",
    "participant_answer",
    "photo",
    "process",
    "rate_event",
    "report",
    "solar_potential",
    "standard_response",
    "support",
]
