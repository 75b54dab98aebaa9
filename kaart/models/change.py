"""Change counters: how often each table that tiles and lists are built from has changed.

One row per counted table (``COUNTED``), moved by a statement-level trigger of migration 0016
(not declared here) on every INSERT, UPDATE, DELETE and TRUNCATE of that table, in the same
transaction: a counter is committed together with the change it counts, and never before it.
kaart/providers/versions.py reads them as the ETags of tiles, OGC items and /api/v1 lists.
A table never changed since the migration has no row yet (it counts as 0).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Table, Text, text

from kaart.models.base import metadata, stamp

# Contributions (and the offers among them), solar potentials, buurten (a Feature's buurt
# name) and the layer catalogue (a reload, an object's layer title); the wijkpact's tables
# (migration 0018); initiatives, their needs and participants, and adoptions (0019).
COUNTED = (
    "contribution",
    "solar_potential",
    "buurt",
    "layer",
    "pact",
    "party",
    "commitment",
    "commitment_update",
    "initiative",
    "initiative_need",
    "initiative_participant",
    "adoption",
)

change_counter = Table(
    "change_counter",
    metadata,
    Column("name", Text, primary_key=True),  # the table counted
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    # When the last change was made: with the version, it tells one database's counter from
    # another's (a database built again counts from 1 again).
    stamp("changed_at"),
    CheckConstraint("version > 0", name="version"),
)
