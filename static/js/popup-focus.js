// Map popups as small dialogs: when one opens, focus moves to its heading (or first link);
// Escape closes it; focus then goes back to what opened it (a list button, else the map).

const FOCUS_TARGETS = "h1, h2, h3, h4, a[href]:not(.leaflet-popup-close-button), button";

export function accessiblePopups(map) {
  const container = map.getContainer();
  let pending = null; // who opens the next popup: a function that finds that element again
  const openers = new WeakMap(); // popup -> that function

  map.on("popupopen", ({ popup }) => {
    const node = popup.getElement();
    if (!node) return;
    const opener = pending || (() => container);
    pending = null;
    openers.set(popup, opener);
    const target = node.querySelector(".leaflet-popup-content")?.querySelector(FOCUS_TARGETS);
    if (target) {
      if (/^H\d$/.test(target.tagName)) target.tabIndex = -1;
      target.focus({ preventScroll: true });
    }
    if (!node.dataset.escapeCloses) {
      node.dataset.escapeCloses = "true";
      node.addEventListener("keydown", (event) => {
        if (event.key !== "Escape") return;
        event.preventDefault();
        event.stopPropagation();
        map.closePopup(popup);
      });
    }
  });

  map.on("popupclose", ({ popup }) => {
    const node = popup.getElement();
    const active = document.activeElement;
    // Only when focus was in the popup (or was lost with it): a click elsewhere keeps its focus.
    const inside = !active || active === document.body || (node && node.contains(active));
    const opener = openers.get(popup);
    openers.delete(popup);
    if (!inside || !opener) return;
    const back = opener() || container;
    if (back.isConnected) back.focus({ preventScroll: true });
    else container.focus({ preventScroll: true });
  });

  return {
    /** The next popup is opened from `find()` (called again when it closes). */
    openedFrom(find) {
      pending = find;
    },
  };
}

/** Markers stay named for screen readers but leave the tab order to the list beside the map. */
export function quietMarker(marker, label) {
  marker.on("add", () => {
    const icon = marker.getElement();
    if (!icon) return;
    icon.tabIndex = -1;
    icon.setAttribute("aria-label", label);
  });
  // Its popup open: the marker is outlined, as its item in the list is marked.
  marker.on("popupopen", () => marker.getElement()?.classList.add("kaart-marker--selected"));
  marker.on("popupclose", () => marker.getElement()?.classList.remove("kaart-marker--selected"));
  return marker;
}

/** Cluster icons in `pane` leave the tab order too (they keep their visually hidden label). */
export function quietClusters(pane) {
  const quiet = (node) => {
    if (node.nodeType === 1 && node.classList.contains("leaflet-marker-icon")) node.tabIndex = -1;
  };
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(quiet);
  }).observe(pane, { childList: true });
  pane.querySelectorAll(".leaflet-marker-icon").forEach(quiet);
}
