// "Bied dit dak aan": an energie contribution linked to the BAG pand, sent once however often
// the connection drops (send.js).

import { byId, problemText, t } from "../common.js";
import { sendWrite } from "../send.js";
import { say } from "./text.js";

const OFFER_TITLES = { roof: "solar.offer.title_roof", join: "solar.offer.title_join" };

/** Open the offer form for a building (from its popup). */
export function startOffer(page, building, latlng) {
  page.state.offerFor = { bag_id: building.bag_id, latlng };
  page.map.closePopup();
  byId("offer").hidden = false;
  byId("offer-form").hidden = false;
  byId("offer-done").hidden = true;
  byId("offer-error").hidden = true;
  byId("offer-building").textContent = t("solar.offer.building", {
    label: building.address ? `${building.address} (${building.bag_id})` : building.bag_id,
  });
  byId("offer-title").focus();
}

function closeOffer(page) {
  byId("offer").hidden = true;
  page.state.offerFor = null;
}

function offerFeature(page) {
  const { solar, state } = page;
  const kind = document.querySelector('input[name="offer-kind"]:checked').value;
  return {
    type: "Feature",
    geometry: { type: "Point", coordinates: [state.offerFor.latlng.lng, state.offerFor.latlng.lat] },
    properties: {
      category: solar.offerCategory,
      title: t(OFFER_TITLES[kind]),
      description: byId("offer-text").value,
      object: { layer: solar.buildingLayer, id: state.offerFor.bag_id },
    },
  };
}

function showOffered(created) {
  byId("offer-error").hidden = true;
  byId("offer-form").hidden = true;
  byId("offer-done").hidden = false;
  byId("offer-edit-link").href = created.edit_url;
  byId("offer-text").value = "";
  say(t("solar.offer.saved"));
}

async function submitOffer(page, onSaved) {
  const { state } = page;
  if (!state.offerFor || state.offerSending) return;
  state.offerSending = true;
  const result = await sendWrite("/api/v1/contributions", {
    body: offerFeature(page),
    writeKey: state.offerWrite,
    status: byId("coop-status"),
  });
  state.offerSending = false;
  if (!result.ok) {
    byId("offer-error").textContent = problemText(result);
    byId("offer-error").hidden = false;
    return;
  }
  showOffered(result.data);
  onSaved();
}

/** `onSaved()` after an offer was stored (the map and the shortlist show it). */
export function wireOffer(page, { onSaved }) {
  byId("offer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitOffer(page, onSaved);
  });
  byId("offer-cancel").addEventListener("click", () => closeOffer(page));
}
