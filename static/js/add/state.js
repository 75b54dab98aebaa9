// The add flow's one state object. Every add/ module gets the flow — {map, state, form,
// objectChoice, nearbyLayer, locationNotice, onCreated} — and changes only `flow.state`; the rest are the
// parts it works with. What was typed stays in the form itself (form.js reads it) and the
// linked object in the ObjectChoice (object.js): nothing here keeps a second copy of them.

import { WriteKey } from "../send.js";

/** The panel's steps, in order; templates/public/map.html has a section #step-<name> for each. */
export const STEPS = ["idle", "shape", "draw", "form", "success"];

export function createAddState() {
  return {
    step: "idle", // one of STEPS
    shape: null, // "Marker" | "Line" | "Polygon": what Geoman draws (or last drew)
    drawn: null, // the drawn or placed Leaflet layer, until it is sent or thrown away
    mapMoving: false, // the keyboard route waits for a pan to end before using the centre
    nearbySearch: null, // AbortController of the running "bestaat dit al?" request
    sending: false, // a contribution is on its way: the form is busy
    write: new WriteKey(), // the Idempotency-Key of the contribution being sent (send.js)
  };
}
