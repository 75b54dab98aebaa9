"""Build the outline of the Netherlands that bounds where contributions may lie.

It is the union of all CBS PC4 areas, widened by 2 km (coast, border rivers), with inner holes
filled (IJsselmeer, Markermeer and other lakes that no postcode area covers) and simplified to
250 m. Run again when the PC4 source changes:

    python -m geodata.outline PC4.gpkg data/netherlands.geojson
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

BUFFER_M = 2000
SIMPLIFY_M = 250


def build(pc4_path: Path) -> MultiPolygon:
    frame = gpd.read_file(pc4_path).to_crs(28992)
    frame = frame[[g is not None and not g.is_empty for g in frame.geometry]]
    union = shapely.union_all(frame.geometry.buffer(BUFFER_M).values)
    filled = [Polygon(p.exterior) for p in shapely.get_parts(union)]
    outline = shapely.union_all(filled).simplify(SIMPLIFY_M)
    wgs84 = gpd.GeoSeries([outline], crs=28992).to_crs(4326).iloc[0]
    wgs84 = shapely.set_precision(wgs84, 1e-5)
    return wgs84 if isinstance(wgs84, MultiPolygon) else MultiPolygon([wgs84])


def main(argv: list[str]) -> None:
    source, target = Path(argv[1]), Path(argv[2])
    outline = build(source)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Nederland (land + 2 km, meren gevuld)",
                    "source": f"CBS postcode-4 gebieden ({source.name}), via geodata/outline.py",
                    "licence": "CC BY 4.0, CBS",
                },
                "geometry": mapping(outline),
            }
        ],
    }
    target.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"{target}: {shapely.get_num_coordinates(outline)} vertices", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
