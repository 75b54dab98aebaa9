"""Read an area file, normalise it, and replace its layer in PostGIS in one transaction.

Reading and reprojection are pyogrio/geopandas/pyproj's; bulk writing is PostgreSQL COPY.
Until the transaction commits, the previous version of the layer is what the app serves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import Engine, text

from kaart.services.contributions import AREA_CODES_SQL

Progress = Callable[[str], None]


class LoadError(RuntimeError):
    """The file cannot become this layer; the layer as it was stays in place."""


@dataclass
class LoadReport:
    layer: str
    loaded: int = 0
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False
    contributions_updated: int = 0

    def summary(self) -> str:
        if self.unchanged:
            return f"{self.layer}: already loaded from this file; nothing to do"
        dropped = ", ".join(f"{n} {why}" for why, n in self.dropped.items()) or "none"
        return (
            f"{self.layer}: {self.loaded} features loaded, {self.repaired} repaired, dropped: "
            f"{dropped}; buurt codes of {self.contributions_updated} contributions refreshed"
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_buurten(
    engine: Engine, source: ModuleType, path: Path, progress: Progress = print, force: bool = False
) -> LoadReport:
    report = LoadReport(layer=source.NAME)
    checksum = sha256_of(path)
    with engine.connect() as conn:
        known = conn.execute(
            text("SELECT source_sha256 FROM layer WHERE name = :name"), {"name": source.NAME}
        ).scalar_one_or_none()
    if known == checksum and not force:
        report.unchanged = True
        return report

    progress(f"{source.NAME}: reading {path.name}")
    frame = _read(path, source)
    rows = _normalise(frame, source, report)
    progress(f"{source.NAME}: writing {len(rows)} buurten")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM buurt WHERE layer = :name"), {"name": source.NAME})
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(
            "COPY buurt (code, name, wijk_code, gemeente_code, layer, geom) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (
                        row["code"],
                        row["name"],
                        row["wijk_code"],
                        row["gemeente_code"],
                        source.NAME,
                        row["ewkb"],
                    )
                )
        conn.execute(
            text(
                """
                INSERT INTO layer (name, title, source, licence, attribution, feature_count,
                                   source_sha256, loaded_at)
                VALUES (:name, :title, :source, :licence, :attribution, :count, :sha, now())
                ON CONFLICT (name) DO UPDATE SET title = excluded.title, source = excluded.source,
                  licence = excluded.licence, attribution = excluded.attribution,
                  feature_count = excluded.feature_count, source_sha256 = excluded.source_sha256,
                  loaded_at = excluded.loaded_at
                """
            ),
            {
                "name": source.NAME,
                "title": source.TITLE,
                "source": source.URL,
                "licence": source.LICENCE,
                "attribution": source.ATTRIBUTION,
                "count": len(rows),
                "sha": checksum,
            },
        )
        report.contributions_updated = refresh_contribution_codes(conn)
    report.loaded = len(rows)
    return report


def refresh_contribution_codes(conn) -> int:
    """Re-derive buurt, wijk and gemeente codes of every contribution from the loaded buurten."""
    result = conn.execute(
        text(
            f"""
            UPDATE contribution AS c
            SET buurt_code = codes.code, wijk_code = codes.wijk_code,
                gemeente_code = codes.gemeente_code
            FROM contribution AS g {AREA_CODES_SQL}
            WHERE g.id = c.id AND (c.buurt_code, c.wijk_code, c.gemeente_code)
                  IS DISTINCT FROM (codes.code, codes.wijk_code, codes.gemeente_code)
            """
        )
    )
    return result.rowcount


def _read(path: Path, source: ModuleType) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LoadError(f"{path.name} cannot be read as geodata: {exc}") from exc
    missing = [c for c in source.REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise LoadError(
            f"{path.name} lacks the columns {', '.join(missing)} that {source.NAME} needs"
        )
    if frame.crs is None:
        raise LoadError(f"{path.name} does not say which coordinate reference system it uses")
    return frame.to_crs(4326)


def _normalise(frame: gpd.GeoDataFrame, source: ModuleType, report: LoadReport) -> list[dict]:
    rows = []
    for props, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        if geom is None or geom.is_empty:
            report.dropped["empty geometry"] = report.dropped.get("empty geometry", 0) + 1
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            report.repaired += 1
        polygons = [
            p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")
        ]
        polygons = [q for p in polygons for q in shapely.get_parts(p)]
        if not polygons:
            report.dropped["not an area"] = report.dropped.get("not an area", 0) + 1
            continue
        row = source.buurt_row(props)
        multi = shapely.set_srid(MultiPolygon(polygons), 4326)
        row["ewkb"] = shapely.to_wkb(multi, hex=True, include_srid=True, output_dimension=2)
        rows.append(row)
    return rows
