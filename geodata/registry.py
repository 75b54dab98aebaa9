"""The named open-data sources Wijkkaart knows, one module each under geodata/sources/.

``kaart layers list`` shows ``list_sources()``; ``read()`` and the loaders look names up with
``get_source()``. Adding a source is adding a module and one line here.
"""

from __future__ import annotations

from geodata.errors import ReadError
from geodata.source import Source
from geodata.sources import (
    bag_adressen,
    bag_panden,
    bgt_groen,
    bomen,
    cbs_buurten,
    cbs_pc4,
    speelplekken,
    three_d_bag,
)

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        *cbs_buurten.SOURCES,
        cbs_pc4.SOURCE,
        bag_panden.SOURCE,
        bag_adressen.SOURCE,
        bgt_groen.SOURCE,
        *three_d_bag.SOURCES,
        *bomen.SOURCES,
        speelplekken.SOURCE,
    )
}


def list_sources() -> list[Source]:
    return list(SOURCES.values())


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise ReadError(f"unknown source '{name}'; known sources: {', '.join(SOURCES)}") from None
