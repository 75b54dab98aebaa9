"""The table a load writes beside the layer's current one (`open_data.<table>__loading`):
created with the columns the first batch needs, widened when a later batch needs more, indexed
once the rows are in, and swapped in for the old table, all in the load's transaction
(geodata/load.py)."""

from __future__ import annotations

from psycopg import Cursor, sql

from geodata.pgcopy import column_definitions

SCHEMA = "open_data"
# Typed columns that other features' ids are looked up by get an index of their own.
KEY_COLUMNS = ("building_id",)


def name(table: str) -> sql.Composable:
    return sql.Identifier(SCHEMA, f"{table}__loading")


def index(cursor: Cursor, table: str, types: dict[str, str | None]) -> None:
    """Primary key, feature id and key indexes, the GiST index, planner statistics."""
    staging = name(table)
    # Indexes are built once the rows are in: a sorted build beats growing them row by row
    # (measured: keys and ids indexed during the COPY made a 500,000-feature load slower).
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    _btree_indexes(cursor, table, staging, keys=[k for k in KEY_COLUMNS if k in types])
    cursor.execute(
        sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{table}__loading_geom_idx"), staging
        )
    )
    # Planner statistics from a 3,000-row sample (the default takes 30,000): enough for bbox
    # and id estimates, and a tenth of the time on a national layer.
    cursor.execute("SET LOCAL default_statistics_target = 10")
    cursor.execute(sql.SQL("ANALYZE {}").format(staging))


def _btree_indexes(cursor: Cursor, table: str, staging: sql.Composable, keys: list[str]) -> None:
    cursor.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (fid)").format(
            staging, sql.Identifier(f"{table}__loading_pkey")
        )
    )
    cursor.execute(
        sql.SQL("CREATE INDEX {} ON {} (feature_id)").format(
            sql.Identifier(f"{table}__loading_feature_id_idx"), staging
        )
    )
    for key in keys:  # a part's building: kaart solar compute looks roof parts up by it
        cursor.execute(
            sql.SQL("CREATE INDEX {} ON {} ({})").format(
                sql.Identifier(f"{table}__loading_{key}_idx"), staging, sql.Identifier(key)
            )
        )


def create(cursor: Cursor, staging: sql.Composable, types: dict[str, str | None]) -> None:
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging))
    cursor.execute(
        sql.SQL(
            "CREATE TABLE {} (fid bigint GENERATED ALWAYS AS IDENTITY, "
            "feature_id text NOT NULL, {}properties jsonb NOT NULL, "
            "geom geometry(Geometry, 28992) NOT NULL)"
        ).format(
            staging,
            sql.SQL("").join(sql.SQL("{}, ").format(d) for d in column_definitions(types)),
        )
    )


def widen(cursor: Cursor, staging, old: dict[str, str | None], new: dict[str, str | None]) -> None:
    for column, column_type in new.items():
        if column not in old:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    staging, sql.Identifier(column), sql.SQL(column_type or "text")
                )
            )
        elif column_type != old[column] and old[column] is not None:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                    staging,
                    sql.Identifier(column),
                    sql.SQL(column_type),
                    sql.Identifier(column),
                    sql.SQL(column_type),
                )
            )
        elif old[column] is None and column_type not in (None, "text"):
            cursor.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING NULL").format(
                    staging, sql.Identifier(column), sql.SQL(column_type)
                )
            )


def swap(cursor: Cursor, table: str) -> None:
    """Drop the old table and put the new one in its place (inside the load's transaction)."""
    loading = f"{table}__loading"
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table)))
    cursor.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(SCHEMA, loading), sql.Identifier(table)
        )
    )
    cursor.execute(
        sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
            sql.Identifier(SCHEMA, table),
            sql.Identifier(f"{loading}_pkey"),
            sql.Identifier(f"{table}_pkey"),
        )
    )
    for suffix in ("geom_idx", "feature_id_idx", *(f"{k}_idx" for k in KEY_COLUMNS)):
        cursor.execute(
            sql.SQL("ALTER INDEX IF EXISTS {} RENAME TO {}").format(
                sql.Identifier(SCHEMA, f"{loading}_{suffix}"), sql.Identifier(f"{table}_{suffix}")
            )
        )
