// Numbers and units as the co-op page writes them, and its one status line.

import { byId, escapeHtml, formatNumber, lang, t } from "../common.js";

const decimalFormat = new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", {
  maximumFractionDigits: 1,
});

export const decimal = (value) => decimalFormat.format(value);
export const kwh = (value) => t("solar.unit.kwh", { value: formatNumber(value) });
export const kwp = (value) => t("solar.unit.kwp", { value: decimal(value) });
export const kg = (value) => t("solar.unit.kg", { value: formatNumber(value) });
export const m2 = (value) => t("solar.unit.m2", { value: formatNumber(value) });

/** The page's status line (role=status: read out when it changes). */
export function say(text) {
  byId("coop-status").textContent = text;
}

/** Leaflet takes attribution as HTML: our text plus the open layer's credit, escaped. */
export function attributionOf(text, layer) {
  const parts = [text, layer?.attribution].filter(Boolean);
  return parts.map((part) => escapeHtml(part)).join(" · ");
}
