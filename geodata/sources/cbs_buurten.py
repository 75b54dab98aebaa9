"""CBS Wijk- en buurtkaart: buurten, wijken and gemeenten with their codes and inhabitants.

PDOK publishes each year as an OGC API (collections buurten, wijken, gemeenten); CBS offers the
GeoPackage with the same three layers. Column names changed over the years (BU_CODE in the
shapefile era, buurtcode since 2022); both are mapped. CBS codes nest (BU0363SD03 lies in wijk
WK0363SD and gemeente GM0363), so a file that only has the buurt code still gets the others.
Amsterdam's own buurten (Gebieden) are a municipal variant with the same CBS codes.
"""

from __future__ import annotations

from geodata.batch import Batch
from geodata.source import Source
from geodata.sources import amsterdam_buurten

YEAR = 2024
OGC_API = f"https://api.pdok.nl/cbs/wijken-en-buurten-{YEAR}/ogc/v1/collections"
DOWNLOAD = f"https://geodata.cbs.nl/files/Wijkenbuurtkaart/WijkBuurtkaart_{YEAR}_v2.zip"
LICENCE = "CC BY 4.0"
ATTRIBUTION = f"CBS, Wijk- en buurtkaart {YEAR}"

NAME_FIELDS = {"gemeentenaam": "gemeente_name", "GM_NAAM": "gemeente_name"}
INHABITANT_FIELDS = {"aantal_inwoners": "inhabitants", "AANT_INW": "inhabitants"}
# The age bands of the CBS kerncijfers wijken en buurten (counts of residents), kept when a file
# carries them: the representativeness monitor sets respondents' ages against them.
AGE_FIELDS = {
    f"{prefix}_{band}": column
    for band, column in (
        ("00_14", "age_00_14"),
        ("15_24", "age_15_24"),
        ("25_44", "age_25_44"),
        ("45_64", "age_45_64"),
        ("65_oo", "age_65_plus"),
    )
    for prefix in ("a", "A")
}
AGE_COLUMNS = tuple(dict.fromkeys(AGE_FIELDS.values()))


def buurt_codes(frame: Batch) -> Batch:
    """Wijk and gemeente codes from the buurt code where the source lacks them."""
    return _enclosing(_enclosing(frame, "wijk_code", "WK", 8), "gemeente_code", "GM", 6)


def wijk_codes(frame: Batch) -> Batch:
    """The gemeente code from the wijk code where the source lacks it."""
    return _enclosing(frame, "gemeente_code", "GM", 6)


def _enclosing(frame: Batch, column: str, prefix: str, end: int) -> Batch:
    """BU0363SD03 lies in WK0363SD (first 8 characters) and GM0363 (first 6)."""
    full_length = {"BU": 10, "WK": 8}
    derived = [
        prefix + code[2:end]
        if isinstance(code, str) and full_length.get(code[:2]) == len(code)
        else None
        for code in frame["code"]
    ]
    given = frame[column] if column in frame else [None] * len(frame)
    frame[column] = [g if g is not None else d for g, d in zip(given, derived, strict=True)]
    return frame


def known_inhabitants(frame: Batch) -> Batch:
    """CBS writes secret or unknown counts as negative numbers (-99997 and the like)."""
    if "inhabitants" in frame:
        frame["inhabitants"] = [
            v if isinstance(v, int | float) and v >= 0 else None for v in frame["inhabitants"]
        ]
    return frame


def known_ages(frame: Batch) -> Batch:
    """Age counts like inhabitants (negative: secret or unknown). A file without them leaves
    the columns empty, and the monitor leaves those buurten out of the age mix."""
    for column in AGE_COLUMNS:
        if column in frame:
            frame[column] = [
                v if isinstance(v, int | float) and v >= 0 else None for v in frame[column]
            ]
    return frame


def _buurten(frame: Batch) -> Batch:
    return known_ages(known_inhabitants(buurt_codes(frame)))


def _wijken(frame: Batch) -> Batch:
    return known_inhabitants(wijk_codes(frame))


BUURTEN = Source(
    name="cbs-buurten",
    title=f"Buurten (CBS {YEAR})",
    kind="area",
    url=f"{OGC_API}/buurten/items",
    download_url=DOWNLOAD,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    geometry="polygon",
    layer="buurten",
    id_field=("buurtcode", "BU_CODE"),
    fields={
        "buurtcode": "code",
        "BU_CODE": "code",
        "buurtnaam": "name",
        "BU_NAAM": "name",
        "wijkcode": "wijk_code",
        "WK_CODE": "wijk_code",
        "gemeentecode": "gemeente_code",
        "GM_CODE": "gemeente_code",
        **NAME_FIELDS,
        **INHABITANT_FIELDS,
        **AGE_FIELDS,
    },
    required_columns=("code", "name"),
    derive=_buurten,
)

WIJKEN = Source(
    name="cbs-wijken",
    title=f"Wijken (CBS {YEAR})",
    kind="area",
    url=f"{OGC_API}/wijken/items",
    download_url=DOWNLOAD,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    geometry="polygon",
    layer="wijken",
    id_field=("wijkcode", "WK_CODE"),
    fields={
        "wijkcode": "code",
        "WK_CODE": "code",
        "wijknaam": "name",
        "WK_NAAM": "name",
        "gemeentecode": "gemeente_code",
        "GM_CODE": "gemeente_code",
        **NAME_FIELDS,
        **INHABITANT_FIELDS,
    },
    required_columns=("code", "name"),
    derive=_wijken,
)

GEMEENTEN = Source(
    name="cbs-gemeenten",
    title=f"Gemeenten (CBS {YEAR})",
    kind="area",
    url=f"{OGC_API}/gemeenten/items",
    download_url=DOWNLOAD,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    geometry="polygon",
    layer="gemeenten",
    id_field=("gemeentecode", "GM_CODE"),
    fields={
        "gemeentecode": "code",
        "GM_CODE": "code",
        "gemeentenaam": "name",
        "GM_NAAM": "name",
        **INHABITANT_FIELDS,
    },
    required_columns=("code", "name"),
    derive=known_inhabitants,
)

# Amsterdam's Gebieden buurten: its module keeps name, URL, licence and demo file; here it is
# read like any CBS buurten layer (cbsCode is the CBS buurt code).
AMSTERDAM_FIELDS = {"cbsCode": "code", "naam": "name"}
AMSTERDAM = Source(
    name=amsterdam_buurten.NAME,
    title=amsterdam_buurten.TITLE,
    kind="area",
    url=amsterdam_buurten.URL,
    licence=amsterdam_buurten.LICENCE,
    attribution=amsterdam_buurten.ATTRIBUTION,
    geometry="polygon",
    id_field="cbsCode",
    fields=AMSTERDAM_FIELDS,
    required_columns=tuple(AMSTERDAM_FIELDS[c] for c in amsterdam_buurten.REQUIRED_COLUMNS),
    derive=buurt_codes,
    sample=amsterdam_buurten.DEMO_FILE,
)

SOURCES = (BUURTEN, WIJKEN, GEMEENTEN, AMSTERDAM)
