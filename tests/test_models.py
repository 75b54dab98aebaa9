"""The tables declared in kaart/models are the tables the migrations make.

Two checks, because Alembic's autogenerate comparison does not see everything:

1. Alembic's `compare_metadata` (with the options migrations/env.py uses) on the migrated test
   database: tables, columns, types, nullability, server defaults, identity columns, primary
   keys, unique constraints, indexes and foreign keys must show no difference.
2. A second database built from the models alone (`metadata.create_all`) must have the same
   catalogue as the migrated one, as PostgreSQL itself prints it: every constraint definition
   (check constraints, FK ON DELETE and DEFERRABLE, constraint names), every index definition
   (GiST, partial and descending ones), and every column's type, default, identity and
   generation expression. This covers what Alembic cannot compare: check constraints (not
   compared at all), computed columns (compared only crudely by text, so it warns on every
   run), partial-index predicates and index ordering.

Not declared in the models and so compared by neither: the triggers and trigger functions of
migrations 0005, 0010 and 0016 (test_triggers_stay_with_the_migrations lists them, so a new one
is noticed),
the per-layer tables in schema `open_data` and PostGIS's `spatial_ref_sys` (left out by name in
`kaart.models.base.include_name`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    create_engine,
    make_url,
    text,
)

from kaart.models import metadata, tables
from kaart.models.base import EXTENSION_TABLES, LAYER_SCHEMA, alembic_options

# The columns declared `Computed`: Alembic renders both expressions as text and warns whenever
# the texts differ, which they always do (PostgreSQL stores its own spelling). That warning is
# no verdict either way; test_created_from_models_equals_migrated compares these expressions.
COMPUTED = {
    f"{table.name}.{column.name}"
    for table in metadata.tables.values()
    for column in table.columns
    if column.computed is not None
}


def _differences(conn: Connection, target) -> tuple[list, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = MigrationContext.configure(
            conn, opts={"target_metadata": target, **alembic_options()}
        )
        diff = compare_metadata(context, target)
    return diff, [str(w.message) for w in caught]


def _unexpected(messages: list[str]) -> list[str]:
    computed = {f"Computed default on {name} cannot be modified" for name in COMPUTED}
    return [m for m in messages if m not in computed]


def test_alembic_finds_no_difference(engine: Engine):
    with engine.connect() as conn:
        diff, messages = _differences(conn, metadata)
    assert diff == []
    assert _unexpected(messages) == []


def test_every_table_is_declared_once():
    names = sorted(tables.__all__)
    assert names == sorted(metadata.tables)
    assert all(getattr(tables, name) is metadata.tables[name] for name in names)
    assert {"contribution.area_m2", "contribution.length_m"} == COMPUTED


def test_the_comparison_sees_a_difference(engine: Engine):
    """Not blind: a column, an index, a default and a foreign key changed in a copy of the
    models are each reported."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    contribution = changed.tables["contribution"]
    contribution.append_column(Column("mood", Integer))
    contribution.indexes.remove(next(i for i in contribution.indexes if i.name.endswith("_page")))
    contribution.c.status.server_default = None
    photo = changed.tables["photo"]
    next(iter(photo.foreign_key_constraints)).ondelete = None
    with engine.connect() as conn:
        diff, _ = _differences(conn, changed)
    kinds = {_kind(d) for d in diff}
    assert ("add_column", "mood") in kinds
    assert ("remove_index", "ix_contribution_page") in kinds
    assert ("modify_default", "status") in kinds
    assert ("remove_fk", "fk_photo_contribution_id_contribution") in kinds


def _kind(difference) -> tuple[str, str]:
    if isinstance(difference, list):  # column changes come as a list of modify_* tuples
        return difference[0][0], difference[0][3]
    name = difference[0]
    if name == "add_column":
        return name, difference[3].name
    return name, difference[1].name


# -- The catalogue of a database made from the models --------------------------------------------

COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped
"""
CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = 'public'::regnamespace
"""
INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
TRIGGERS = """
SELECT c.relname, t.tgname, p.proname
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
"""
NOT_DECLARED = EXTENSION_TABLES | {"alembic_version"}


def _catalogue(conn: Connection) -> dict[str, set[tuple]]:
    return {
        name: {tuple(row) for row in conn.execute(text(sql)) if row[0] not in NOT_DECLARED}
        for name, sql in (("columns", COLUMNS), ("constraints", CONSTRAINTS), ("indexes", INDEXES))
    }


@pytest.fixture(scope="module")
def created_from_models(database_url: str) -> Iterator[Engine]:
    """A database beside the test database holding only PostGIS and `metadata.create_all`."""
    url = make_url(database_url)
    target = url.set(database=f"{url.database}_from_models")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
        metadata.create_all(conn)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
    admin.dispose()


def test_created_from_models_equals_migrated(engine: Engine, created_from_models: Engine):
    with engine.connect() as conn:
        migrated = _catalogue(conn)
    with created_from_models.connect() as conn:
        declared = _catalogue(conn)
    for part in ("columns", "constraints", "indexes"):
        assert sorted(declared[part] - migrated[part]) == [], f"{part} only in the models"
        assert sorted(migrated[part] - declared[part]) == [], f"{part} only in the migrations"
    # Not vacuous: every declared table is there, each with (at least) its primary key.
    for part in ("columns", "constraints", "indexes"):
        assert {row[0] for row in migrated[part]} == set(metadata.tables), part


def test_the_catalogue_sees_what_alembic_does_not(created_from_models: Engine):
    """Alembic reports none of these changes (tried); the catalogue comparison reports each."""
    with created_from_models.connect() as conn:
        before = _catalogue(conn)
        for sql in (
            "ALTER TABLE contribution DROP CONSTRAINT ck_contribution_title_length",
            "DROP INDEX ix_contribution_object",
            "CREATE INDEX ix_contribution_object ON contribution (object_layer, object_id)",
            "DROP INDEX ix_buurt_geom",
            "CREATE INDEX ix_buurt_geom ON buurt (geom)",
            "ALTER TABLE contribution DROP COLUMN length_m",
            "ALTER TABLE contribution ADD COLUMN length_m double precision "
            "GENERATED ALWAYS AS (ST_Length(geom)) STORED",
        ):
            conn.execute(text(sql))
        after = _catalogue(conn)
        conn.rollback()
    gone = {row[1] for part in before for row in before[part] - after[part]}
    assert gone == {
        "ck_contribution_title_length",
        "ix_contribution_object",
        "ix_buurt_geom",
        "length_m",
    }
    changed = {(row[0], row[1], row[4]) for row in after["columns"] - before["columns"]}
    assert changed == {("contribution", "length_m", "st_length(geom)")}


def test_triggers_stay_with_the_migrations(engine: Engine, created_from_models: Engine):
    """The history and reply rules (migration 0005), the audit log's append-only rule (0010)
    and the change counters (0016) are triggers, not declared in the models; a new trigger in
    a migration shows up here, so the list in kaart/models stays true."""
    with engine.connect() as conn:
        triggers = {tuple(row) for row in conn.execute(text(TRIGGERS))}
    assert triggers == {
        ("comment", "comment_one_level", "comment_one_level"),
        ("contribution", "contribution_created", "record_contribution_created"),
        ("contribution_event", "contribution_event_append_only", "forbid_history_change"),
        ("contribution_event", "contribution_event_no_truncate", "forbid_history_change"),
        ("audit_event", "audit_event_append_only", "audit_event_append_only"),
        ("audit_event", "audit_event_no_truncate", "audit_event_append_only"),
        ("contribution", "contribution_counted", "count_change"),
        ("solar_potential", "solar_potential_counted", "count_change"),
        ("buurt", "buurt_counted", "count_change"),
        ("layer", "layer_counted", "count_change"),
        # The wijkpact's progress history (0018).
        ("commitment_update", "commitment_update_append_only", "forbid_commitment_update_change"),
        ("commitment_update", "commitment_update_no_truncate", "forbid_commitment_update_change"),
        ("pact", "pact_counted", "count_change"),
        ("party", "party_counted", "count_change"),
        ("commitment", "commitment_counted", "count_change"),
        ("commitment_update", "commitment_update_counted", "count_change"),
        # Initiatives and adoptions (0019).
        ("initiative", "initiative_counted", "count_change"),
        ("initiative_need", "initiative_need_counted", "count_change"),
        ("initiative_participant", "initiative_participant_counted", "count_change"),
        ("adoption", "adoption_counted", "count_change"),
    }
    with created_from_models.connect() as conn:
        assert conn.execute(text(TRIGGERS)).all() == []


def test_only_the_layer_schema_and_postgis_table_are_left_out(connection: Connection):
    """Left out by name, not by pattern: a table in any other schema, or one whose name merely
    looks like a spatial extension's (GeoAlchemy2's own filter skips every `idx_*` table), is a
    difference; a new table in `open_data` is not."""
    for sql in (
        "CREATE SCHEMA stray",
        "CREATE TABLE stray.spatial_ref_sys (x integer)",
        "CREATE TABLE public.idx_thing (x integer)",
        f"CREATE TABLE {LAYER_SCHEMA}.another_layer (x integer)",
    ):
        connection.execute(text(sql))
    diff, _ = _differences(connection, metadata)
    assert sorted((d[0], d[1].schema or "public", d[1].name) for d in diff) == [
        ("remove_table", "public", "idx_thing"),
        ("remove_table", "stray", "spatial_ref_sys"),
    ]
