// Field-level errors on the co-op forms: the API's reason shown beside the field it is about,
// the field marked aria-invalid and described by it; what belongs to no field goes in the
// form's own message (role=alert).

import { answerErrors, byId, errorText } from "../common.js";

/** API parameter → the input it came from (its error holder is `<id>-error`). */
const SHORTLIST_FIELDS = {
  buurt: "area-buurt",
  pc4: "area-pc4",
  polygon: "area-draw",
  min_kwp: "filter-min-kwp",
  usage: "filter-usage",
  year_from: "filter-year-from",
  year_to: "filter-year-to",
  suitability: "filter-suitability",
};

function holderOf(id) {
  return byId(`${id}-error`);
}

function describe(input, holderId, on) {
  const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  const rest = ids.filter((id) => id !== holderId);
  const next = on ? [...rest, holderId] : rest;
  if (next.length) input.setAttribute("aria-describedby", next.join(" "));
  else input.removeAttribute("aria-describedby");
}

export function clearFieldErrors(general) {
  for (const id of Object.values(SHORTLIST_FIELDS)) {
    const input = byId(id);
    const holder = holderOf(id);
    if (!input || !holder) continue;
    holder.textContent = "";
    holder.hidden = true;
    input.removeAttribute("aria-invalid");
    describe(input, holder.id, false);
  }
  general.textContent = "";
  general.hidden = true;
}

/** Show a failed answer; focus moves to the first field in error (or stays, for a general
 *  message, which is read out by its role=alert). */
export function showShortlistErrors(result, general) {
  clearFieldErrors(general);
  const loose = [];
  let first = null;
  // An unknown buurt or postcode (404) is about its field too.
  const unknown = result.status === 404 && result.data && Array.isArray(result.data.errors);
  const errors = unknown
    ? result.data.errors.map((e) => ({ field: e.field, message: errorText(e) }))
    : answerErrors(result);
  for (const error of errors) {
    const id = error.field && SHORTLIST_FIELDS[error.field];
    const input = id && byId(id);
    const holder = id && holderOf(id);
    if (!input || !holder) {
      loose.push(error.message);
      continue;
    }
    holder.textContent = holder.textContent ? `${holder.textContent} ${error.message}` : error.message;
    holder.hidden = false;
    input.setAttribute("aria-invalid", "true");
    describe(input, holder.id, true);
    first = first || input;
  }
  if (loose.length) {
    general.textContent = loose.join(" ");
    general.hidden = false;
  }
  if (first) first.focus();
}
