"""The address search's index of a loaded address layer, made in the load's transaction.

A national address layer has ten million rows and most street names share trigrams ("str",
"raa", "aat"), so matching names against every address would read millions of index entries.
The search matches against the distinct streets instead (a few hundred thousand nationally,
table ``<layer table>__streets`` with a b-tree for prefixes and a trigram index for near misses
on ``label``) and then finds the house number with a b-tree on the address table: both steps
stay small at any size.

    build(cursor, "bag_adressen")   # after the layer's table is in place
"""

from __future__ import annotations

from psycopg import Cursor, sql

SCHEMA = "open_data"
# What an address layer needs for the search; a layer without them is not searchable.
COLUMNS = ("street", "house_number", "postcode", "city")


def streets_table(table: str) -> str:
    return f"{table}__streets"


def build(cursor: Cursor, table: str) -> None:
    """(Re)make the streets table and the address table's search indexes."""
    addresses = sql.Identifier(SCHEMA, table)
    streets = sql.Identifier(SCHEMA, streets_table(table))
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(streets))
    # One row per street in a place; its point is one of its addresses (a point on the set).
    cursor.execute(
        sql.SQL(
            """
            CREATE TABLE {streets} AS
            SELECT street, city,
                   lower(street || ' ' || coalesce(city, '')) AS label,
                   count(*) AS addresses,
                   ST_PointOnSurface(ST_Collect(geom)) AS geom
            FROM {addresses}
            WHERE street IS NOT NULL AND geom IS NOT NULL
            GROUP BY street, city
            """
        ).format(streets=streets, addresses=addresses)
    )
    # (statement, index name suffix, table)
    statements = (
        ("CREATE INDEX {} ON {} USING gin (label gin_trgm_ops)", "__streets_label_idx", streets),
        ("CREATE INDEX {} ON {} (label text_pattern_ops)", "__streets_prefix_idx", streets),
        ("CREATE INDEX {} ON {} (street, city, house_number)", "_street_idx", addresses),
        ("CREATE INDEX {} ON {} (postcode, house_number)", "_postcode_idx", addresses),
    )
    for statement, suffix, target in statements:
        cursor.execute(sql.SQL(statement).format(sql.Identifier(table + suffix), target))
    cursor.execute(sql.SQL("ANALYZE {}").format(streets))
