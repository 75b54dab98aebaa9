"""BGT begroeid terreindeel: green areas (groenvoorziening, grasland, bos, ...) of the BGT.

``cover`` is the BGT's fysiek voorkomen (IMGeo calls the GML element ``class``; GDAL exports
keep that name), ``cover_detail`` the IMGeo plus value (gras- en kruidachtigen, heesters, ...).
"""

from __future__ import annotations

from geodata.source import OPEN_DATA, Source

BGT_OGC_API = "https://api.pdok.nl/lv/bgt/ogc/v1/collections"
BGT_DOWNLOAD = "https://api.pdok.nl/lv/bgt/download/v1_0/full/custom"
BGT_LICENCE = "CC0 1.0 (BGT via PDOK)"
BGT_ATTRIBUTION = "Kadaster / BGT"

SOURCE = Source(
    name="bgt-groen",
    title="Groen (BGT begroeid terreindeel)",
    kind="green",
    url=f"{BGT_OGC_API}/begroeidterreindeel/items",
    download_url=BGT_DOWNLOAD,
    licence=BGT_LICENCE,
    attribution=BGT_ATTRIBUTION,
    geometry="polygon",
    layer="begroeidterreindeel",
    id_field=("lokaalid", "lokaal_id"),
    fields={
        "class": "cover",
        "fysiek_voorkomen": "cover",
        "bgt_fysiekvoorkomen": "cover",
        "plus_fysiekvoorkomen": "cover_detail",
        "plus_fysiek_voorkomen": "cover_detail",
        "bgt_status": "status",
        "status": "status",
    },
    required_columns=("cover",),
    sample=OPEN_DATA / "ede" / "bgt_otterlo_2020.gpkg",
)
