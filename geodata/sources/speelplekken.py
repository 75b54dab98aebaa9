"""Playgrounds (speelplekken): municipal point layers; there is no national source.

The BGT has no playgrounds, and each municipality publishes its own register (or none), with
its own column names; the common ones are mapped. No real sample exists in the repository:
tests read a small made-up file, tests/fixtures/speelplekken_verzonnen.geojson.
"""

from __future__ import annotations

from geodata.source import Source

SOURCE = Source(
    name="speelplekken",
    title="Speelplekken (gemeente)",
    kind="playground",
    # Amsterdam's open geodata portal lists its municipal layers; other municipalities have
    # their own. Load with --file or --url of the municipality's layer.
    url="https://maps.amsterdam.nl/open_geodata/",
    licence="Open data of the municipality (check its terms)",
    attribution="Gemeente",
    geometry="point",
    id_field=("id", "ID", "objectnummer"),
    fields={
        "naam": "name",
        "Naam": "name",
        "NAAM": "name",
        "type": "type",
        "soort": "type",
        "Soort": "type",
        "leeftijd": "age_group",
        "leeftijdscategorie": "age_group",
        "Leeftijd": "age_group",
    },
    required_columns=("name",),
)
