"""CBS postcode-4 areas (PC4) with inhabitants: the postcoderoos and per-capita maps use them.

PDOK's OGC API holds several years in one collection (filter ``jaarcode``); CBS offers each
year as a GeoPackage in a zip. The sample is the 2024 set converted from an R package (see
data/open/SOURCES.md): its columns are ``postcode`` and ``inwoners``, and postcode 5028 has an
empty geometry, which the reader reports as dropped.
"""

from __future__ import annotations

from geodata.batch import Batch
from geodata.source import OPEN_DATA, Source
from geodata.sources.cbs_buurten import known_inhabitants

YEAR = 2024


def postcode_text(frame: Batch) -> Batch:
    """Postcodes as four characters, whether the source stored them as numbers or text."""
    frame["postcode"] = [_four(v) for v in frame["postcode"]]
    frame["feature_id"] = [_four(v) for v in frame["feature_id"]]
    return known_inhabitants(frame)


def _four(value) -> str | None:
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, float) else str(value).strip()
    return text.zfill(4) if text.isdigit() else text


SOURCE = Source(
    name="cbs-pc4",
    title=f"Postcodegebieden PC4 (CBS {YEAR})",
    kind="postcode",
    url=f"https://api.pdok.nl/cbs/postcode4/ogc/v1/collections/postcode4/items?jaarcode={YEAR}",
    download_url=f"https://download.cbs.nl/postcode/2025-cbs_pc4_{YEAR}_v1.zip",
    licence="CC BY 4.0",
    attribution="CBS",
    geometry="polygon",
    layer="pc4",
    id_field=("postcode", "postcode4", "PC4"),
    fields={
        "postcode": "postcode",
        "postcode4": "postcode",
        "PC4": "postcode",
        "aantal_inwoners": "inhabitants",
        "inwoners": "inhabitants",
        "INWONER": "inhabitants",
    },
    required_columns=("postcode",),
    derive=postcode_text,
    sample=OPEN_DATA / "pc4" / "cbs_pc4_2024_nl.gpkg",
)
