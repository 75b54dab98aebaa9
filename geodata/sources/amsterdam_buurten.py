"""Amsterdam's own buurten (Gebieden), a municipal variant of CBS wijken en buurten.

Its `cbsCode` is the CBS buurt code (BU + gemeente + wijk + buurt). CBS codes nest, so the wijk
and gemeente codes follow from it: BU0363SD03 lies in wijk WK0363SD and gemeente GM0363.
"""

from __future__ import annotations

from pathlib import Path

NAME = "amsterdam-buurten"
TITLE = "Buurten (Gemeente Amsterdam)"
URL = "https://api.data.amsterdam.nl/v1/gebieden/buurten/?_format=geojson"
LICENCE = "Open data Gemeente Amsterdam (hergebruik met bronvermelding)"
ATTRIBUTION = "Buurten: Gemeente Amsterdam"
DEMO_FILE = (
    Path(__file__).resolve().parents[2] / "data" / "demo" / "gebieden_buurten_amsterdam.geojson"
)
REQUIRED_COLUMNS = ("cbsCode", "naam")


def buurt_row(props: dict) -> dict:
    """Our buurt fields from one source record."""
    code = str(props["cbsCode"]).strip()
    return {
        "code": code,
        "name": str(props["naam"]).strip(),
        "wijk_code": "WK" + code[2:8] if len(code) == 10 else None,
        "gemeente_code": "GM" + code[2:6] if len(code) == 10 else None,
    }
