// Sending the contribution: checks that need no server, then one write with its
// Idempotency-Key, retried with the same key after a lost connection or a 503 (send.js).

import { answerErrors, byId, t } from "../common.js";
import { addSendStatus, sendWrite } from "../send.js";
import { showSuccess } from "./success.js";

const API = "/api/v1/contributions";

/** What is missing before anything is sent: a drawing, a category, a title. */
function localErrors(flow) {
  const errors = flow.form.localErrors();
  if (!flow.state.drawn) errors.unshift({ field: "geometry", message: t("error.geometry_missing") });
  return errors;
}

/** The Feature the API takes, from the drawing, the form and the linked object. The e-mail
 *  address only when one was given: the server then mails the receipt in the language of the
 *  language cookie, which is the page's (kaart/i18n.py). */
function featureToSend(flow) {
  const { category, title, description, email } = flow.form.values();
  const feature = {
    type: "Feature",
    geometry: flow.state.drawn.toGeoJSON().geometry,
    properties: { category, title, description },
  };
  if (email) feature.properties.email = email;
  if (flow.objectChoice.value) feature.properties.object = flow.objectChoice.reference();
  return feature;
}

/** The form while a contribution is on its way: the button says so and cannot be pressed. */
function setSending(flow, sending) {
  flow.state.sending = sending;
  const button = byId("add-submit");
  button.disabled = sending;
  button.textContent = t(sending ? "add.form.sending" : "add.form.submit");
  if (sending) byId("add-form").setAttribute("aria-busy", "true");
  else byId("add-form").removeAttribute("aria-busy");
}

async function submitContribution(flow, status) {
  if (flow.state.sending) return;
  const local = localErrors(flow);
  if (local.length) {
    flow.form.showErrors(local);
    return;
  }
  setSending(flow, true);
  const body = featureToSend(flow);
  const result = await sendWrite(API, { body, writeKey: flow.state.write, status });
  setSending(flow, false);
  if (result.status === 201 && result.data) {
    showSuccess(flow, result.data, { emailed: Boolean(body.properties.email) });
  } else {
    flow.form.showErrors(answerErrors(result));
  }
}

export function wireSubmit(flow) {
  const form = byId("add-form");
  const status = addSendStatus(byId("add-submit").closest(".actions"), "add-send-status");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitContribution(flow, status);
  });
}
