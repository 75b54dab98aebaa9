"""Read a collection's items from an OGC API – Features service (PDOK and others), page by page.

The first request asks for GeoJSON (``f=json``), RD New coordinates (``crs``, Part 2) and, when
given, a bbox in RD New (``bbox`` + ``bbox-crs``). A server that refuses those (HTTP 400) is
asked again in plain Part 1 terms: CRS84 coordinates and a CRS84 bbox. Pages are followed
through their ``next`` links; the CRS of each page is its ``Content-Crs`` header, CRS84 when
absent (as the standard says).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import Request, urlopen

import pyproj
import shapely.geometry

from geodata.batch import Batch
from geodata.errors import ReadError
from geodata.normalise import RD, bbox_in, parse_crs

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84 = pyproj.CRS.from_user_input(CRS84_URI)
MAX_LIMIT = 1000  # PDOK's largest page
TIMEOUT_S = 60


@dataclass
class Page:
    batch: Batch  # ids: the features' ids
    matched: int | None  # numberMatched, when the server says


class _StatusError(ReadError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def pages(
    url: str, limit: int, bbox: tuple[float, float, float, float] | None = None
) -> Iterator[Page]:
    """Every page of the collection's items, following ``next`` links until there are none."""
    try:
        document, crs, current = _fetch_first(url, limit, bbox)
    except _StatusError as exc:
        if exc.status != 400:
            raise
        document, crs, current = _fetch_first(url, limit, bbox, rd=False)
    seen = {current}
    offset = 0
    while True:
        features = _features(document, current)
        if not features:
            return
        yield Page(_batch(features, crs, offset), _matched(document))
        offset += len(features)
        following = _next_link(document, current)
        if following is None:
            return
        if following in seen:
            raise ReadError(f"{_host(url)} keeps sending the same page ({following})")
        seen.add(following)
        document, crs, current = *_get(following), following


def _fetch_first(url: str, limit: int, bbox, rd: bool = True):
    first = _first_url(url, limit, bbox, rd)
    return (*_get(first), first)


def _first_url(url: str, limit: int, bbox, rd: bool) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("f", "json")
    query.setdefault("limit", str(min(limit, MAX_LIMIT)))
    if rd:
        query.setdefault("crs", RD_URI)
    if bbox is not None:
        box = bbox if rd else bbox_in(bbox, RD, CRS84)
        query["bbox"] = ",".join(str(float(v)) for v in box)
        if rd:
            query["bbox-crs"] = RD_URI
    return urlunsplit(parts._replace(query=urlencode(query)))


def _get(url: str) -> tuple[dict, pyproj.CRS]:
    # Only http(s): a next link must not make us open file:// or other local URLs.
    if urlsplit(url).scheme not in ("http", "https"):
        raise ReadError(f"{url} is not an http(s) URL")
    request = Request(url, headers={"Accept": "application/geo+json, application/json"})  # noqa: S310
    try:
        with urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            body = response.read()
            stated = response.headers.get("Content-Crs")
    except HTTPError as exc:
        raise _StatusError(
            f"{_host(url)} answered HTTP {exc.code} ({exc.reason}) for {url}", exc.code
        ) from exc
    except (URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReadError(f"cannot fetch {url}: {reason}") from exc
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReadError(
            f"{_host(url)} did not answer with JSON; is {url} an OGC API items URL?"
        ) from exc
    crs = parse_crs(stated.strip().strip("<>") if stated else CRS84_URI, _host(url))
    return document, crs


def _features(document, url: str) -> list[dict]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ReadError(f"{url} did not answer with a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ReadError(f"{url} answered a FeatureCollection without a features list")
    return features


def _batch(features: list[dict], crs: pyproj.CRS, offset: int) -> Batch:
    records = [f.get("properties") or {} for f in features]
    geometries = [
        shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in features
    ]
    ids = [f.get("id", offset + i) for i, f in enumerate(features)]
    return Batch.from_records(records, geometries, ids, crs)


def _matched(document: dict) -> int | None:
    matched = document.get("numberMatched")
    return matched if isinstance(matched, int) else None


def _next_link(document: dict, current: str) -> str | None:
    for link in document.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return urljoin(current, link["href"])
    return None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
