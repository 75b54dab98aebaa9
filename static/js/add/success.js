// The last step: thanks, the link to the new contribution and the private edit link, which is
// shown this once (steps.js empties it when the resident moves on) and can be copied; when an
// e-mail address was given, a line that the link went there too.

import { byId, t } from "../common.js";
import { clearInput, showStep } from "./steps.js";

/** The API stored it: put it on the map and show the links (the token stays out of the map). */
export function showSuccess(flow, created, { emailed = false } = {}) {
  clearInput(flow);
  const { edit_token: _token, edit_url: editUrl, ...feature } = created;
  flow.onCreated(feature);
  byId("success-link").href = feature.properties.url;
  byId("edit-link").value = new URL(editUrl, window.location.origin).href;
  byId("copy-status").textContent = "";
  byId("success-emailed").hidden = !emailed;
  showStep(flow, "success");
}

async function copyEditLink() {
  const input = byId("edit-link");
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    input.select();
    copied = document.execCommand && document.execCommand("copy");
  }
  byId("copy-status").textContent = copied ? t("success.copied") : t("success.copy_failed");
}

export function wireEditLink() {
  byId("copy-edit-link").addEventListener("click", copyEditLink);
  byId("edit-link").addEventListener("focus", (event) => event.target.select());
}
