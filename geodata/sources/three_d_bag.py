"""3DBAG (TU Delft 3D geoinformation group and 3DGI): building heights, roof shapes, roof parts.

Two named sources read the same files. ``3dbag`` gives one row per building (footprint,
roof type, roof heights, flat and sloped roof area); ``3dbag-dakvlakken`` one row per roof
part of the LoD2.2 model with slope, azimuth and area, for the solar potential per roof.
Tiles come as CityJSONSeq (.city.jsonl) or GeoPackage (layers ``pand`` and ``lod22_2d``).
Before 2022 the attributes had no ``b3_`` prefix (dak_type, h_dak_50p); both are mapped.
Roof parts take 3DBAG's own b3_azimut / b3_hellingshoek; where a release lacks them
(v2024.04 and older) they are computed from the 3D polygon (see geodata/cityjson.py) and
``orientation_computed`` says so.
"""

from __future__ import annotations

from geodata.batch import Batch
from geodata.source import OPEN_DATA, Source

VERSION = "v20250903"
LICENCE = "CC BY 4.0"
ATTRIBUTION = "© 3DBAG by tudelft3d and 3DGI"
DOWNLOAD_PAGE = "https://3dbag.nl/en/download"
GEOPACKAGE = f"https://data.3dbag.nl/{VERSION}/3dbag_nl.gpkg.zip"


def _roof_heights(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}h_dak_50p": "roof_height_50p",
        f"{prefix}h_dak_70p": "roof_height_70p",
        f"{prefix}h_dak_min": "roof_height_min",
        f"{prefix}h_dak_max": "roof_height_max",
    }


def roof_orientation(frame: Batch) -> Batch:
    """3DBAG's angles where given, else the ones computed from the face's normal."""
    computed = [
        a is None and s is None for a, s in zip(frame["azimuth"], frame["slope"], strict=True)
    ]
    frame["azimuth"] = _where(computed, frame["normal_azimuth"], frame["azimuth"])
    frame["slope"] = _where(computed, frame["normal_slope"], frame["slope"])
    frame["orientation_computed"] = computed
    frame["feature_id"] = [
        f"{building}-{index}" if building is not None and index is not None else fid
        for building, index, fid in zip(
            frame["building_id"], frame["surface_index"], frame["feature_id"], strict=True
        )
    ]
    return frame


def _where(condition: list[bool], then: list, otherwise: list) -> list:
    return [t if c else o for c, t, o in zip(condition, then, otherwise, strict=True)]


BUILDINGS = Source(
    name="3dbag",
    title="3D-gebouwen (3DBAG)",
    kind="building",
    url=DOWNLOAD_PAGE,
    download_url=GEOPACKAGE,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    geometry="polygon",
    layer="pand",
    id_field="identificatie",
    fields={
        "b3_dak_type": "roof_type",
        "dak_type": "roof_type",
        **_roof_heights("b3_"),
        **_roof_heights(""),
        "b3_h_maaiveld": "ground_height",
        "h_maaiveld": "ground_height",
        "b3_opp_dak_plat": "roof_area_flat",
        "b3_opp_dak_schuin": "roof_area_sloped",
        "b3_opp_grond": "ground_area",
        "oorspronkelijkbouwjaar": "construction_year",
    },
    required_columns=("roof_type",),
    bag_id_columns=("feature_id",),
    cityjson_rows="buildings",
    sample=OPEN_DATA / "amsterdam" / "3dbag_v20250903_9-444-728_sm.city.jsonl",
)

ROOF_PARTS = Source(
    name="3dbag-dakvlakken",
    title="Dakvlakken (3DBAG)",
    kind="roof",
    url=DOWNLOAD_PAGE,
    download_url=GEOPACKAGE,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    geometry="polygon",
    layer="lod22_2d",
    fields={
        "identificatie": "building_id",
        "surface_index": "surface_index",
        "b3_azimut": "azimuth",
        "azimut": "azimuth",
        "b3_hellingshoek": "slope",
        "hellingshoek": "slope",
        "normal_azimuth": "normal_azimuth",
        "normal_slope": "normal_slope",
        "area_2d": "area_2d",
        "area_3d": "area_3d",
        **_roof_heights("b3_"),
        **_roof_heights(""),
        "lod": "lod",
    },
    required_columns=("building_id",),
    bag_id_columns=("building_id",),
    derive=roof_orientation,
    cityjson_rows="roof_parts",
    sample=OPEN_DATA / "amsterdam" / "3dbag_v20250903_9-444-728_sm.city.jsonl",
)

SOURCES = (BUILDINGS, ROOF_PARTS)
