// The side panel; on small screens a bottom sheet that can be folded away to see the map.

export function setupPanel(panel) {
  const toggle = panel.querySelector("#panel-toggle");
  const text = toggle.querySelector(".panel__toggle-text");

  function setOpen(open) {
    panel.dataset.sheet = open ? "open" : "closed";
    toggle.setAttribute("aria-expanded", String(open));
    text.textContent = open ? text.dataset.open : text.dataset.closed;
    // The map keeps its size in CSS, but Leaflet must know when the visible part changes.
    window.kaartMap?.invalidateSize({ pan: true });
  }

  toggle.addEventListener("click", () => setOpen(panel.dataset.sheet !== "open"));
  return { open: () => setOpen(true), close: () => setOpen(false) };
}
