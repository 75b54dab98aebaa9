"""What Wijkkaart knows about one named open-data source: where it lives and how to read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from geodata.batch import Batch

# Sample files that travel with the repository (provenance in data/open/SOURCES.md).
OPEN_DATA = Path(__file__).resolve().parents[1] / "data" / "open"

Family = Literal["point", "line", "polygon"]
CityJSONRows = Literal["buildings", "roof_parts"]


@dataclass(frozen=True)
class Source:
    """A named source. ``fields`` maps source columns to ours; several source names may map to
    one of ours (schema variants), and per row the first one that has a value wins."""

    name: str
    title: str  # Dutch, shown in the layer switcher
    kind: str  # area, postcode, building, address, green, tree, playground, roof
    url: str  # OGC API Features items URL when one exists, else the publisher's download/page
    licence: str
    attribution: str
    geometry: Family
    fields: Mapping[str, str]
    required_columns: tuple[str, ...] = ()  # our column names that a file must provide
    id_field: str | tuple[str, ...] | None = None  # None: the feature's position in the file
    layer: str | tuple[str, ...] | None = None  # default layer(s) in multi-layer files
    download_url: str | None = None  # the bulk file (GeoPackage, zip) when there is one
    bag_id_columns: tuple[str, ...] = ()  # ours or kept attributes holding BAG ids: 16 digits
    derive: Callable[[Batch], Batch] | None = None  # fills computed columns
    cityjson_rows: CityJSONRows | None = None  # how CityJSON becomes rows, for 3DBAG
    sample: Path | None = None  # a file in the repository this source reads, for demos/tests

    @property
    def id_candidates(self) -> tuple[str, ...]:
        if self.id_field is None:
            return ()
        return (self.id_field,) if isinstance(self.id_field, str) else self.id_field

    @property
    def layer_candidates(self) -> tuple[str, ...]:
        if self.layer is None:
            return ()
        return (self.layer,) if isinstance(self.layer, str) else self.layer

    @property
    def columns(self) -> tuple[str, ...]:
        """Our mapped column names, in declaration order."""
        return tuple(dict.fromkeys(self.fields.values()))

    def candidates(self, column: str) -> tuple[str, ...]:
        """The source columns that may fill one of our columns, best first."""
        return tuple(src for src, ours in self.fields.items() if ours == column)
