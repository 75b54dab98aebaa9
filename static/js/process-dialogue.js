// The wijkdialoog on a contribution's page (templates/process/_dialogue.html): support once,
// comments with one level of replies, and reports. Writes send the page's CSRF token.

import { el, t } from "./common.js";

const $ = (id) => document.getElementById(id);
const section = $("dialogue");

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, application/problem+json",
        "X-CSRF-Token": section.dataset.csrf,
      },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

function problem(result) {
  const error = result.data && Array.isArray(result.data.errors) && result.data.errors[0];
  if (error && t(`error.${error.code}`) !== `error.${error.code}`) return t(`error.${error.code}`);
  if (result.status === 429) return t("dialogue.error.too_many");
  if (result.status === 0) return t("dialogue.error.network");
  return (result.data && result.data.detail) || t("dialogue.error.generic");
}

function say(text, kind = "success") {
  const status = $("dialogue-status");
  status.textContent = text;
  status.className = `notice notice--${kind}`;
  status.hidden = false;
}

if (section) {
  const base = `/api/v1/contributions/${encodeURIComponent(section.dataset.contribution)}`;

  // -- Support --------------------------------------------------------------------------------
  const supportButton = $("support-button");
  supportButton.addEventListener("click", async () => {
    supportButton.disabled = true;
    const result = await post(`${base}/support`);
    if (!result.ok) {
      supportButton.disabled = false;
      say(problem(result), "error");
      return;
    }
    supportButton.setAttribute("aria-pressed", "true");
    $("support-label").textContent = t("dialogue.support.done");
    $("support-count").textContent = t("dialogue.support.count", { count: result.data.support_count });
  });

  // -- Comments and replies -----------------------------------------------------------------
  const form = $("comment-form");
  const parentInput = $("comment-parent");
  const replying = $("comment-replying");

  function replyTo(id) {
    parentInput.value = id || "";
    replying.hidden = !id;
    $("comment-form-title").textContent = t(id ? "dialogue.comments.reply" : "dialogue.comments.add");
    if (id) $("comment-body").focus();
  }
  $("comment-cancel-reply").addEventListener("click", () => replyTo(null));

  function commentNode(comment) {
    const meta = el("p", { class: "comment__meta" }, comment.author_name || t("dialogue.comments.anonymous"));
    const body = el("div", { class: "description comment__body" }, comment.body);
    const actions = el("p", { class: "comment__actions" });
    if (!comment.parent) {
      actions.append(el("button", { type: "button", class: "button button--link button--small", "data-reply": comment.id }, t("dialogue.comments.reply")));
    }
    actions.append(el("button", { type: "button", class: "button button--link button--small", "data-report-comment": comment.id }, t("dialogue.report.button")));
    const item = el("li", { class: comment.parent ? "comment comment--reply" : "comment", id: `comment-${comment.id}` }, meta, body, actions);
    if (!comment.parent) item.append(el("ul", { class: "comment-list comment-list--replies" }));
    return item;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = $("comment-message");
    message.hidden = true;
    const body = { body: $("comment-body").value, author_name: $("comment-name").value || null };
    if (parentInput.value) body.parent = parentInput.value;
    if (!body.body.trim()) {
      message.textContent = t("error.comment_body_missing");
      message.hidden = false;
      return;
    }
    const result = await post(`${base}/comments`, body);
    if (!result.ok) {
      message.textContent = problem(result);
      message.hidden = false;
      return;
    }
    $("comment-body").value = "";
    if (result.data.visibility !== "published") {
      say(t("dialogue.comments.pending"));
    } else {
      const node = commentNode(result.data);
      const parent = result.data.parent && document.querySelector(`#comment-${CSS.escape(result.data.parent)} .comment-list--replies`);
      (parent || $("comment-list")).append(node);
      $("comments-empty").hidden = true;
      say(t("dialogue.comments.placed"));
    }
    replyTo(null);
  });

  // -- Reports --------------------------------------------------------------------------------
  async function report(path, reason) {
    const result = await post(path, { reason: reason || "" });
    say(result.ok ? t("dialogue.report.thanks") : problem(result), result.ok ? "success" : "error");
  }

  section.addEventListener("click", (event) => {
    const reply = event.target.closest("[data-reply]");
    if (reply) replyTo(reply.dataset.reply);
    const flag = event.target.closest("[data-report-comment]");
    if (flag) report(`/api/v1/comments/${encodeURIComponent(flag.dataset.reportComment)}/reports`);
  });
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    report(`${base}/reports`, $("report-reason").value);
  });
}
