"""What an Open311 (GeoReport v2) request carries beyond its contribution.

The contact fields are personal data, never shown by a public endpoint. The foreign key is
checked at commit, so a request row and its contribution can be written in either order within
one transaction.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Table, Text

from kaart.models.base import UUID, metadata

MEDIA_URL_MAX = 2000

open311_request = Table(
    "open311_request",
    metadata,
    Column("contribution_id", UUID, primary_key=True),
    Column("media_url", Text),
    Column("address_string", Text),
    Column("email", Text),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("phone", Text),
    Column("device_id", Text),
    Column("account_id", Text),
    ForeignKeyConstraint(
        ["contribution_id"],
        ["contribution.id"],
        name="fk_open311_request_contribution",
        ondelete="CASCADE",
        deferrable=True,
        initially="DEFERRED",
    ),
    CheckConstraint(f"char_length(media_url) <= {MEDIA_URL_MAX}", name="media_url_length"),
)
