// The co-op page's one state object. Every coop/ module gets the page — {map, state, solar,
// buildingLayer, pc4Layer, popups} — and changes only `page.state`; the rest is fixed at start.

import { WriteKey } from "../send.js";

export function createCoopState() {
  return {
    tiles: null, // the buildings coloured by potential (redrawn after an offer)
    shortlistRows: [], // the shortlist's features; the table shows them a page at a time
    area: null, // the area drawn for the shortlist (a Leaflet polygon)
    rose: null, // the postcoderoos shown on the map
    pickingRose: false, // the next map click picks the postcoderoos' point
    offerFor: null, // {bag_id, latlng}: the roof being offered
    offerSending: false, // an offer is on its way
    offerWrite: new WriteKey(), // the Idempotency-Key of the offer being sent (send.js)
  };
}
