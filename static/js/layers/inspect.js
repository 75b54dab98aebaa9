// The popup for an object clicked on the resident's map: its layer, id and typed columns, and
// "Bijdrage over dit object". All text goes in through textContent.

import { el, t } from "../common.js";
import { objectName, propertyLabel, propertyValue } from "./names.js";
import { swatch } from "./styles.js";

/** [label, value] rows: the id, then the layer's typed columns (the same as in its tiles, not
 *  every field of the source file) that have a plain value. */
function factRows(layer, properties, id) {
  const rows = [[t("inspect.feature_id"), id]];
  for (const name of layer.columns || []) {
    const value = properties[name];
    if (value === null || value === undefined || value === "") continue;
    if (typeof value === "object" && !Array.isArray(value)) continue;
    rows.push([propertyLabel(name), propertyValue(value)]);
  }
  return rows;
}

export function inspectContent({ layer, feature }, { onAttach }) {
  const properties = feature.properties || {};
  const id = properties.feature_id ?? feature.id;
  const attach = el(
    "button",
    { type: "button", class: "button button--primary button--small inspect__attach" },
    t("inspect.attach"),
  );
  attach.addEventListener("click", () => onAttach({ layer, feature, id: String(id) }));
  return el(
    "div",
    { class: "popup inspect", "data-layer": layer.name },
    el("p", { class: "popup__meta" }, swatch(layer), el("span", {}, layer.title)),
    el("h3", { class: "popup__title" }, objectName(layer.kind, id)),
    el(
      "dl",
      { class: "inspect__facts" },
      factRows(layer, properties, id).map(([label, value]) =>
        el("div", { class: "inspect__row" }, el("dt", {}, label), el("dd", {}, value)),
      ),
    ),
    attach,
  );
}
