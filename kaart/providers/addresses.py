"""The addresses provider: search over the loaded BAG addresses, offline ("Nieuwstraat 12 Weesp",
"1381 AB 12", "nieuwstr", "Nieuwstaat" with a typo), best first, as GeoJSON Features (WGS84).

A query is split into a postcode (four digits and two letters), a house number (digits, maybe a
letter: "12a") and words (the street and perhaps the place). With a postcode the address table's
b-tree answers directly. With words, the layer's streets table (geodata/address_search.py) is
matched by prefix (a b-tree range), or when nothing starts that way by trigram strict word
similarity (pg_trgm: typo-tolerant), then the house number is looked up per street found.
Without a number the streets themselves are the answers, each at one of its addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.address_search import streets_table
from kaart.errors import CatalogueError

POSTCODE = re.compile(r"(?<!\d)(\d{4})\s?([a-z]{2})(?![a-z])")
NUMBER = re.compile(r"(?<![\w])(\d{1,5})\s?([a-z])?(?![a-z\d])")
WORD = re.compile(r"[^\W\d_][\w'.-]*")
LIMIT_MAX = 20


@dataclass(frozen=True)
class Question:
    """What a search text asks for."""

    words: str  # lower case, the street and maybe the place
    postcode: str | None  # "1381AB"
    number: int | None
    letter: str | None  # "a" of "12a"

    @property
    def empty(self) -> bool:
        return not self.words and self.postcode is None


def parse(q: str) -> Question:
    rest = " ".join(q.lower().split())
    postcode = None
    if found := POSTCODE.search(rest):
        postcode = (found.group(1) + found.group(2)).upper()
        rest = rest[: found.start()] + " " + rest[found.end() :]
    number = letter = None
    if found := NUMBER.search(rest):
        number, letter = int(found.group(1)), found.group(2)
        rest = rest[: found.start()] + " " + rest[found.end() :]
    words = " ".join(WORD.findall(rest))
    return Question(words=words, postcode=postcode, number=number, letter=letter)


def address_layer(session: Session) -> tuple[str, str] | None:
    """(layer name, table) of the first searchable address layer, or None."""
    rows = session.execute(
        text(
            "SELECT name, table_name FROM layer WHERE kind = 'address' AND table_name IS NOT NULL "
            "AND to_regclass('open_data.' || quote_ident(table_name || '__streets')) IS NOT NULL "
            "ORDER BY name LIMIT 1"
        )
    ).first()
    if rows is None:
        return None
    name, table = rows
    if not re.fullmatch(r"[a-z0-9_]+", table):  # written by geodata.load, checked anyway
        raise CatalogueError(f"address layer table {table!r}: a name the loader never writes")
    return name, table


# One answer as a Feature: `a` an address row, or `s` a street row when there is no address.
_ADDRESS_FEATURE = """
json_build_object(
  'type', 'Feature', 'id', a.feature_id,
  'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
  'properties', json_build_object(
    'kind', 'address',
    'label', concat_ws(' ', a.street, a.house_number::text || coalesce(a.house_letter, '')
                       || coalesce('-' || a.house_number_suffix, ''))
             || ', ' || concat_ws(' ', a.postcode, a.city),
    'street', a.street, 'house_number', a.house_number, 'house_letter', a.house_letter,
    'house_number_suffix', a.house_number_suffix, 'postcode', a.postcode, 'city', a.city))
"""
_STREET_FEATURE = """
json_build_object(
  'type', 'Feature', 'id', NULL,
  'geometry', ST_AsGeoJSON(ST_Transform(s.geom, 4326), 7)::json,
  'properties', json_build_object(
    'kind', 'street', 'label', concat_ws(', ', s.street, s.city),
    'street', s.street, 'city', s.city, 'addresses', s.addresses))
"""
# The address that fits the number best: the letter asked for, else the plain number first.
_ADDRESS_ORDER = (
    "(lower(coalesce(a.house_letter, '')) = coalesce(:letter, '')) DESC, "
    "a.house_letter NULLS FIRST, a.house_number_suffix NULLS FIRST"
)


def search(session: Session, q: str, limit: int = 8) -> tuple[list[str], str | None]:
    """The answers (Feature JSON texts, best first) and the name of the layer searched."""
    found = address_layer(session)
    question = parse(q)
    if found is None or question.empty:
        return [], found[0] if found else None
    name, table = found
    addresses = f'open_data."{table}"'
    streets = f'open_data."{streets_table(table)}"'
    params = {
        "postcode": question.postcode,
        "number": question.number,
        "letter": question.letter,
        "words": question.words,
        "limit": limit,
        "prefix": _like_escape(question.words) + "%",
    }
    if question.postcode is not None:
        sql = f"""
            SELECT ({_ADDRESS_FEATURE})::text FROM {addresses} a
            WHERE a.postcode = :postcode
              AND (CAST(:number AS integer) IS NULL OR a.house_number = :number)
            ORDER BY a.house_number, {_ADDRESS_ORDER} LIMIT :limit"""
    else:
        # Streets that start with what was typed come from a b-tree range (fast at any size);
        # only when there are none does the trigram index look for a near miss (a typo, the
        # place first). The second branch's NOT EXISTS is a one-time test: skipped, not run.
        matched = f"""
            WITH prefix AS (
              SELECT s.*, 2.0::real AS score FROM {streets} s
              WHERE s.label LIKE :prefix
              ORDER BY s.addresses DESC, s.label LIMIT :limit)
            SELECT * FROM prefix
            UNION ALL (
              SELECT s.*, strict_word_similarity(:words, s.label) AS score FROM {streets} s
              WHERE NOT EXISTS (SELECT 1 FROM prefix) AND :words <<% s.label
              ORDER BY score DESC, s.addresses DESC LIMIT :limit)"""
        if question.number is None:
            sql = (
                f"SELECT ({_STREET_FEATURE})::text FROM ({matched}) s "
                "ORDER BY s.score DESC, s.addresses DESC"
            )
        else:
            sql = f"""
                SELECT ({_ADDRESS_FEATURE})::text
                FROM ({matched}) s
                CROSS JOIN LATERAL (
                  SELECT * FROM {addresses} a
                  WHERE a.street = s.street AND a.city IS NOT DISTINCT FROM s.city
                    AND a.house_number = :number
                  ORDER BY {_ADDRESS_ORDER} LIMIT 3) a
                ORDER BY s.score DESC, s.addresses DESC, {_ADDRESS_ORDER} LIMIT :limit"""
    return list(session.execute(text(sql), params).scalars()), name


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
