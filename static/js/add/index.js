// Adding a contribution, the entry point map.js calls: choose point / line / area (steps.js),
// draw it or place it with the keyboard (draw.js), see what already exists nearby (nearby.js)
// and whether the public map shows the point approximately (../location-notice.js),
// say what it is and link an object of an open layer (form.js, object.js), send it (submit.js)
// and keep the edit link (success.js). The flow's one state object is in state.js.

import { byId } from "../common.js";
import { ContributionForm } from "../form.js";
import { LocationNotice } from "../location-notice.js";
import { ObjectChoice } from "../object.js";
import { chooseShapeAgain, placePoint, startDraw, wireDrawing } from "./draw.js";
import { createAddState } from "./state.js";
import { cancel, clearInput, showIdle, showStep } from "./steps.js";
import { wireSubmit } from "./submit.js";
import { wireEditLink } from "./success.js";

function createFlow(map, onCreated) {
  return {
    map,
    state: createAddState(),
    form: new ContributionForm(byId("add-form"), { geometryTarget: "drawn-summary" }),
    objectChoice: new ObjectChoice(byId("field-object"), { map }),
    nearbyLayer: L.layerGroup().addTo(map),
    locationNotice: new LocationNotice(byId("location-notice")),
    onCreated,
  };
}

/** The panel's buttons that carry a data-action. */
function runAction(flow, action) {
  if (action === "cancel") cancel(flow);
  else if (action === "choose-shape") chooseShapeAgain(flow);
  else if (action === "redraw") startDraw(flow, flow.state.shape);
  else if (action === "add-another") {
    flow.form.reset();
    showStep(flow, "shape");
  } else if (action === "done") showIdle(flow);
}

function wireSteps(flow) {
  byId("add-start").addEventListener("click", () => showStep(flow, "shape"));
  for (const button of document.querySelectorAll(".shape-choice")) {
    button.addEventListener("click", () => startDraw(flow, button.dataset.shape));
  }
  byId("panel").addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action) runAction(flow, action);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && flow.state.step === "draw" && !event.defaultPrevented) {
      chooseShapeAgain(flow);
    }
  });
}

/** "Bijdrage over dit object" in the inspect popup: a point at the click, about the object. */
function attachTo(flow, object, latlng) {
  const chosen = ObjectChoice.fromInspected(object);
  if (flow.state.step === "form") {
    // Already telling about a drawing: link the object to it, keep what was typed.
    flow.objectChoice.set(chosen);
    byId("field-object").scrollIntoView({ block: "nearest" });
    return;
  }
  clearInput(flow);
  flow.objectChoice.set(chosen);
  placePoint(flow, latlng);
}

export function setupAddFlow({ map, onCreated }) {
  const flow = createFlow(map, onCreated);
  wireDrawing(flow);
  wireSubmit(flow);
  wireEditLink();
  wireSteps(flow);
  return {
    attachTo: (object, latlng) => attachTo(flow, object, latlng),
    /** While picking an object, a map click is the pick; true when the click was used. */
    handleMapClick: (latlng, layers) =>
      flow.state.step === "form" && flow.objectChoice.pickAt(latlng, layers),
  };
}
