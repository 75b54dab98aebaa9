// What objects of the open layers and their fields are called on the page.

import { t } from "../common.js";

/** The catalogue's text for `key`, or null when there is none. */
function known(key) {
  return t(key) === key ? null : t(key);
}

/** "Pand 0457100000012345": a noun for the kind of object and its id. */
export function objectName(kind, id) {
  return `${known(`object.kind.${kind}`) || t("object.kind.other")} ${id}`;
}

/** "Pand 0457… (Panden (BAG))" for an object reference {layer, id, layer_title?}. */
export function objectLabel(object, catalogue) {
  const layer = (catalogue || []).find((l) => l.name === object.layer);
  const title = object.layer_title || layer?.title || object.layer;
  return `${objectName(layer?.kind, object.id)} (${title})`;
}

/** A column's label ("Bouwjaar"), or the column name with spaces. */
export function propertyLabel(column) {
  return known(`layerprop.${column}`) || column.replace(/_/g, " ");
}

export function propertyValue(value) {
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return t(value ? "inspect.yes" : "inspect.no");
  return String(value);
}
