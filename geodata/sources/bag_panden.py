"""BAG panden: every building's footprint, construction year and status (Kadaster via PDOK).

The OGC API and the national bag-light GeoPackage use ``bouwjaar`` and ``gebruiksdoel``; the
BAG 2.0 extract (as in the Weesp sample) says ``oorspronkelijkbouwjaar`` and ``gebruiksdoelen``.
Ids are made 16 digits: Delft's file has dropped the leading zero of gemeente 0503.
"""

from __future__ import annotations

from geodata.source import OPEN_DATA, Source

BAG_OGC_API = "https://api.pdok.nl/kadaster/bag/ogc/v2/collections"
BAG_GEOPACKAGE = "https://service.pdok.nl/lv/bag/atom/downloads/bag-light.gpkg"
BAG_LICENCE = "Public Domain Mark 1.0 (BAG via PDOK)"
BAG_ATTRIBUTION = "Kadaster / BAG"

SOURCE = Source(
    name="bag-panden",
    title="Panden (BAG)",
    kind="building",
    url=f"{BAG_OGC_API}/pand/items",
    download_url=BAG_GEOPACKAGE,
    licence=BAG_LICENCE,
    attribution=BAG_ATTRIBUTION,
    geometry="polygon",
    layer="pand",
    id_field="identificatie",
    fields={
        "oorspronkelijkbouwjaar": "construction_year",
        "bouwjaar": "construction_year",
        "status": "status",
        "gebruiksdoelen": "usage",
        "gebruiksdoel": "usage",
        "aantal_verblijfsobjecten": "unit_count",
    },
    bag_id_columns=("feature_id",),
    sample=OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg",
)
