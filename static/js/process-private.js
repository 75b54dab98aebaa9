// On the private edit page: moderation state and the history, from the author's private view
// that edit.js fetches with the edit token (with the place as drawn).

import { el, t } from "./common.js";

const section = document.getElementById("private-dialogue");

function formatDate(iso) {
  return new Date(iso).toLocaleDateString(document.documentElement.lang === "en" ? "en-GB" : "nl-NL", {
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

/** Show `data`, the answer of /api/v1/contributions/<id>/private. */
export function showPrivate(data) {
  if (!section) return;
  const visibility = document.getElementById("private-visibility");
  visibility.textContent = t(`dialogue.private.visibility.${data.visibility}`);
  if (data.visibility === "hidden" && data.hidden_reason) {
    visibility.append(el("br"), `${t("dialogue.moderation.reason")}: ${data.hidden_reason}`);
  }
  visibility.classList.toggle("notice--error", data.visibility === "hidden");
  document.getElementById("private-support").textContent = t("dialogue.support.count", {
    count: data.support_count,
  });
  const list = document.getElementById("private-history");
  list.replaceChildren(
    ...data.history.map((event) => {
      const what =
        event.action === "status"
          ? t("dialogue.history.status", {
              from: t(`status.${event.from_status}`),
              to: t(`status.${event.to_status}`),
            })
          : t(`dialogue.history.${event.action}`);
      const meta = formatDate(event.at) + (event.actor ? ` · ${event.actor}` : "");
      return el(
        "li",
        { class: "history__item" },
        el("p", { class: "history__meta" }, meta),
        el("p", { class: "history__what" }, what),
        event.text ? el("div", { class: "description history__text" }, event.text) : null,
      );
    }),
  );
  section.hidden = false;
}
