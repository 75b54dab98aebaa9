"""A batch of features, column by column: what the readers yield and the COPY writer takes.

    batch = Batch({"naam": ["Hof", None]}, geometry=shapely_array, ids=[1, 2], crs=RD)
    batch["naam"]              # ['Hof', None]: a column is a list of plain Python values
    batch.take(mask)           # the rows where a boolean numpy mask is true
    batch.to_geodataframe()    # for tests and one-off scripts (imports geopandas then)

Plain lists and a numpy array of shapely geometries, no pandas: a bulk load then never imports
pandas or geopandas (45 MiB of a load's peak memory and 0.3 s of its start-up, see the
README's import figures), and a column's values are already what json and COPY take.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyproj
import shapely


class Batch:
    """Named columns of equal length, the geometries and each row's id in its source (a fid,
    an OGC feature id, a CityJSON object id: the fallback when a source has no id column)."""

    __slots__ = ("columns", "crs", "geometry", "ids")

    def __init__(
        self,
        columns: dict[str, list],
        geometry: np.ndarray,
        ids: Sequence,
        crs: pyproj.CRS | None = None,
    ):
        self.geometry = geometry
        self.ids = list(ids)
        self.crs = crs
        self.columns = {}
        for name, values in columns.items():
            self[name] = values

    @classmethod
    def from_records(
        cls, records: Iterable[dict], geometries: Sequence, ids: Sequence, crs: pyproj.CRS | None
    ) -> Batch:
        """Rows as dicts (CityJSON, OGC API): every key becomes a column, None where a row
        lacks it."""
        records = list(records)
        names = dict.fromkeys(key for record in records for key in record)
        columns = {name: [record.get(name) for record in records] for name in names}
        geometry = np.empty(len(geometries), dtype=object)
        geometry[:] = list(geometries)
        return cls(columns, geometry, ids, crs)

    def __len__(self) -> int:
        return len(self.geometry)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def __setitem__(self, name: str, values: Iterable[Any]) -> None:
        values = values if type(values) is list else list(values)
        if len(values) != len(self):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(self)} rows")
        self.columns[name] = values

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def with_geometry(self, geometry: np.ndarray, crs: pyproj.CRS | None = None) -> Batch:
        """The same rows with other geometries (moved, repaired)."""
        return Batch(self.columns, geometry, self.ids, crs if crs is not None else self.crs)

    def take(self, keep: np.ndarray) -> Batch:
        """The rows where `keep` (a boolean array) is true, in their order."""
        if keep.all():
            return self
        rows = np.flatnonzero(keep).tolist()
        columns = {name: [values[i] for i in rows] for name, values in self.columns.items()}
        return Batch(columns, self.geometry[keep], [self.ids[i] for i in rows], self.crs)

    def rows(self, start: int, stop: int) -> Batch:
        """Rows start..stop-1."""
        columns = {name: values[start:stop] for name, values in self.columns.items()}
        return Batch(columns, self.geometry[start:stop], self.ids[start:stop], self.crs)

    def bounds(self) -> np.ndarray:
        """minx, miny, maxx, maxy of every geometry together."""
        return shapely.total_bounds(self.geometry)

    def to_geodataframe(self):
        """As a GeoDataFrame indexed by the ids (imports geopandas: not for the load path)."""
        import geopandas as gpd
        import pandas as pd

        data = {name: pd.Series(values, dtype=object) for name, values in self.columns.items()}
        frame = pd.DataFrame(data, index=range(len(self)))
        frame.index = pd.Index(self.ids, dtype=object)
        return gpd.GeoDataFrame(frame, geometry=self.geometry, crs=self.crs)


def concat(batches: Iterable[Batch]) -> Batch:
    """Batches with the same columns as one (tests and small files)."""
    batches = list(batches)
    if not batches:
        raise ValueError("nothing to concatenate")
    names = list(dict.fromkeys(name for batch in batches for name in batch.columns))
    columns = {
        name: [v for batch in batches for v in batch.columns.get(name, [None] * len(batch))]
        for name in names
    }
    geometry = np.concatenate([batch.geometry for batch in batches])
    ids = [i for batch in batches for i in batch.ids]
    return Batch(columns, geometry, ids, batches[0].crs)
