"""BAG addresses: one point per verblijfsobject with its main address, for the address search.

The BAG 2.0 extract (Weesp sample) names the street ``openbareruimtenaam`` and lists the
building ids in ``pand_ids``; PDOK's OGC API and bag-light use ``openbare_ruimte_naam`` and
``pand_identificatie``. ``building_ids`` is always a list of 16-digit pand ids.
"""

from __future__ import annotations

from geodata.batch import Batch
from geodata.source import OPEN_DATA, Source
from geodata.sources.bag_panden import BAG_ATTRIBUTION, BAG_GEOPACKAGE, BAG_LICENCE, BAG_OGC_API
from geodata.values import bag_id_list


def building_id_lists(frame: Batch) -> Batch:
    frame["building_ids"] = [bag_id_list(v) for v in frame["building_ids"]]
    return frame


SOURCE = Source(
    name="bag-adressen",
    title="Adressen (BAG)",
    kind="address",
    url=f"{BAG_OGC_API}/verblijfsobject/items",
    download_url=BAG_GEOPACKAGE,
    licence=BAG_LICENCE,
    attribution=BAG_ATTRIBUTION,
    geometry="point",
    layer="verblijfsobject",
    id_field="identificatie",
    fields={
        "openbareruimtenaam": "street",
        "openbare_ruimte_naam": "street",
        "straatnaam": "street",
        "huisnummer": "house_number",
        "huisletter": "house_letter",
        "huisnummertoevoeging": "house_number_suffix",
        "toevoeging": "house_number_suffix",
        "postcode": "postcode",
        "woonplaats": "city",
        "woonplaats_naam": "city",
        "woonplaatsnaam": "city",
        "pand_ids": "building_ids",
        "pand_identificatie": "building_ids",
        "gebruiksdoel": "usage",
        "oppervlakte": "floor_area",
        "status": "status",
    },
    required_columns=("street", "house_number", "postcode"),
    bag_id_columns=("feature_id",),
    derive=building_id_lists,
    sample=OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg",
)
