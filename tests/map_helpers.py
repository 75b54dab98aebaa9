"""Steering the Leaflet map (exposed as window.kaartMap) from Playwright tests."""

from __future__ import annotations

from playwright.sync_api import Page


def set_view(page: Page, lonlat: tuple[float, float], zoom: int) -> None:
    """Move the map and wait until Leaflet has settled there."""
    page.evaluate(
        """([lon, lat, zoom]) => new Promise((resolve) => {
            kaartMap.once("moveend", () => resolve());
            kaartMap.setView([lat, lon], zoom, { animate: false });
        })""",
        [lonlat[0], lonlat[1], zoom],
    )


def pixel_of(page: Page, lonlat: tuple[float, float]) -> tuple[float, float]:
    """The viewport pixel where a place lies on the map."""
    return tuple(
        page.evaluate(
            """([lon, lat]) => {
                const box = kaartMap.getContainer().getBoundingClientRect();
                const p = kaartMap.latLngToContainerPoint([lat, lon]);
                return [box.left + p.x, box.top + p.y];
            }""",
            list(lonlat),
        )
    )
