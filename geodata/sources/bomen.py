"""Trees: the BGT's tree points nationwide, and a municipal tree register as a variant.

BGT vegetatieobject points (plus_type ``boom``) cover every municipality but carry no
species. Municipal registers do; Leeuwarden's monumental and valuable trees (2015, CC0) are
the sample. Its ``ELEMENTNR`` repeats across trees, so rows are identified by position.
"""

from __future__ import annotations

from geodata.source import OPEN_DATA, Source
from geodata.sources.bgt_groen import BGT_ATTRIBUTION, BGT_DOWNLOAD, BGT_LICENCE, BGT_OGC_API

BGT = Source(
    name="bomen",
    title="Bomen (BGT)",
    kind="tree",
    url=f"{BGT_OGC_API}/vegetatieobject_punt/items",
    download_url=BGT_DOWNLOAD,
    licence=BGT_LICENCE,
    attribution=BGT_ATTRIBUTION,
    geometry="point",
    layer=("vegetatieobject_punt", "vegetatieobject_boom", "vegetatieobject"),
    id_field=("lokaalid", "lokaal_id"),
    fields={
        "plus_type": "type",
        "plus_type_": "type",
        "bgt_status": "status",
        "status": "status",
    },
    required_columns=("type",),
    sample=OPEN_DATA / "ede" / "bgt_otterlo_2020.gpkg",
)

LEEUWARDEN = Source(
    name="bomen-leeuwarden",
    title="Monumentale en waardevolle bomen (Gemeente Leeuwarden)",
    kind="tree",
    # The municipality's 2015 publication as mirrored with its licence; no live service known.
    url=(
        "https://github.com/jdhoek/bomen-leeuwarden-osm/tree/"
        "a407c9df155da5ca54cc8939cc9ec513cb6f9b3d/source-data"
    ),
    licence="CC0 1.0",
    attribution="Gemeente Leeuwarden",
    geometry="point",
    fields={
        "BOOMSOORT": "species",
        "boomsoort": "species",
        "PLANTJAAR": "planting_year",
        "plantjaar": "planting_year",
        "STATUS": "status",
        "status": "status",
    },
    required_columns=("species",),
    sample=OPEN_DATA / "leeuwarden" / "monumentale_en_waardevolle_bomen.shp",
)

SOURCES = (BGT, LEEUWARDEN)
