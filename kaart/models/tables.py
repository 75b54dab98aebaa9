"""Every table of the schema by its SQL name: `from kaart.models import tables as t`, then
`t.contribution.c.status`. Each table is declared in its domain module beside its constants."""

from kaart.models.adoption import adoption, adoption_event
from kaart.models.audit import audit_event
from kaart.models.buurt import buurt
from kaart.models.change import change_counter
from kaart.models.contribution import contribution, contribution_event
from kaart.models.dialogue import comment, report, standard_response, support
from kaart.models.idempotency import idempotency_key
from kaart.models.initiative import (
    initiative,
    initiative_event,
    initiative_need,
    initiative_participant,
    initiative_update,
)
from kaart.models.layer import layer
from kaart.models.mail import (
    contribution_edit_token,
    mail_address,
    mail_update,
    outbox,
    process_notice,
    satisfaction,
    subscription,
)
from kaart.models.open311 import open311_request
from kaart.models.pact import (
    commitment,
    commitment_contribution,
    commitment_initiative,
    commitment_response,
    commitment_support,
    commitment_update,
    pact,
    pact_party,
    party,
    party_member,
)
from kaart.models.participant import participant_answer
from kaart.models.photo import photo
from kaart.models.process import process
from kaart.models.ratelimit import rate_event
from kaart.models.solar import solar_potential
from kaart.models.user import app_user

__all__ = [
    "adoption",
    "adoption_event",
    "app_user",
    "audit_event",
    "buurt",
    "change_counter",
    "comment",
    "commitment",
    "commitment_contribution",
    "commitment_initiative",
    "commitment_response",
    "commitment_support",
    "commitment_update",
    "contribution",
    "contribution_edit_token",
    "contribution_event",
    "idempotency_key",
    "initiative",
    "initiative_event",
    "initiative_need",
    "initiative_participant",
    "initiative_update",
    "layer",
    "mail_address",
    "mail_update",
    "open311_request",
    "outbox",
    "pact",
    "pact_party",
    "participant_answer",
    "party",
    "party_member",
    "photo",
    "process",
    "process_notice",
    "rate_event",
    "report",
    "satisfaction",
    "solar_potential",
    "standard_response",
    "subscription",
    "support",
]
