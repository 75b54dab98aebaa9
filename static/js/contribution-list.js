// The list beside a map: the contributions in view as an ordered list, sortable by distance from
// the map's centre, date and support, in step with the map — "Toon op de kaart" opens an item's
// popup, and a marker's popup marks its item. Markup: templates/_contribution_list.html.

import { categoryBadge, categoryLabel, el, formatNumber, lang, statusLabel, t } from "./common.js";

const PAGE = 25; // items shown at first and added by "Toon meer"
const locale = lang === "nl" ? "nl-NL" : "en-GB";
const dateFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" });
const kmFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });

const SORTS = {
  distance: (a, b) => a.distance - b.distance,
  date: (a, b) => b.created.localeCompare(a.created) || a.distance - b.distance,
  support: (a, b) => b.support - a.support || a.distance - b.distance,
};

/** A contribution's popup: category and status, its title as the heading, a link to its page. */
export function contributionPopup(feature) {
  const p = feature.properties;
  return el(
    "div",
    { class: "popup" },
    el(
      "p",
      { class: "popup__meta" },
      categoryBadge(p.category),
      el("span", {}, categoryLabel(p.category)),
      el("span", { class: "popup__status" }, statusLabel(p.status)),
    ),
    el("h3", { class: "popup__title" }, p.title),
    el("a", { class: "popup__link", href: p.url || `/bijdragen/${feature.id}` }, t("popup.view")),
  );
}

function distanceText(metres) {
  if (metres < 1000) {
    return t("list.distance_m", { distance: formatNumber(Math.round(metres / 10) * 10) });
  }
  return t("list.distance_km", { distance: kmFormat.format(metres / 1000) });
}

function supportText(count) {
  if (!count) return t("list.support_none");
  return count === 1 ? t("list.support_one") : t("list.support_other", { count: formatNumber(count) });
}

function countText(total, visible, loading) {
  if (loading && total === 0) return t("map.loading");
  if (total === 0) return t("list.count_none");
  if (visible < total) {
    return t("list.count_partial", { shown: formatNumber(visible), count: formatNumber(total) });
  }
  return total === 1 ? t("list.count_one") : t("list.count_other", { count: formatNumber(total) });
}

/**
 * Wire the list in `root` to `map`. `entries()` gives the contributions in scope (what the map
 * shows after filtering) as {id, feature, latlng}; `show(entry)` brings its marker into view and
 * opens its popup; `popups` (from accessiblePopups) returns focus to the button afterwards.
 * `scrollToCurrent`: scroll a marked item into view (where the list scrolls in its own panel).
 */
export function setupContributionList(root, { map, entries, show, popups, scrollToCurrent = false }) {
  const sort = root.querySelector(".clist__sort select");
  const list = root.querySelector(".clist__items");
  const count = root.querySelector(".clist__count");
  const empty = root.querySelector(".clist__empty");
  const more = root.querySelector(".clist__more");
  const items = new Map(); // id -> {li, distance node}
  let shown = PAGE;
  let current = null;
  let rows = [];
  let options = {};

  function item(entry) {
    const p = entry.feature.properties;
    const known = items.get(entry.id);
    if (known && known.feature === entry.feature) return known;
    const distance = el("span", { class: "clist__distance" });
    const button = el(
      "button",
      {
        type: "button",
        class: "button button--secondary button--small clist__show",
        // The visible words first, then which contribution: one of many such buttons.
        "aria-label": `${t("list.show")}: ${p.title}`,
      },
      t("list.show"),
    );
    button.addEventListener("click", () => {
      popups.openedFrom(() => items.get(entry.id)?.button);
      show(entry);
    });
    const created = p.created_at ? new Date(p.created_at) : null;
    const li = el(
      "li",
      { class: "clist__item", "data-id": entry.id },
      el(
        "h3",
        { class: "clist__name" },
        el("a", { href: p.url || `/bijdragen/${entry.id}` }, p.title),
      ),
      el(
        "p",
        { class: "clist__meta" },
        categoryBadge(p.category),
        el("span", {}, categoryLabel(p.category)),
        el("span", { class: "clist__status" }, statusLabel(p.status)),
      ),
      el(
        "p",
        { class: "clist__facts" },
        created ? el("time", { datetime: p.created_at }, dateFormat.format(created)) : null,
        el("span", {}, supportText(p.support_count)),
        distance,
      ),
      button,
    );
    const made = { li, button, distance, feature: entry.feature };
    items.set(entry.id, made);
    return made;
  }

  function render() {
    const centre = map.getCenter();
    rows = entries().map((entry) => ({
      entry,
      distance: map.distance(centre, entry.latlng),
      created: entry.feature.properties.created_at || "",
      support: entry.feature.properties.support_count || 0,
    }));
    rows.sort(SORTS[sort.value] || SORTS.distance);
    if (current && !rows.some((row) => row.entry.id === current)) current = null;
    const visible = rows.slice(0, shown);
    const nodes = visible.map((row) => {
      const made = item(row.entry);
      made.distance.textContent = distanceText(row.distance);
      if (row.entry.id === current) made.li.setAttribute("aria-current", "true");
      else made.li.removeAttribute("aria-current");
      return made.li;
    });
    const same =
      nodes.length === list.children.length && nodes.every((node, i) => list.children[i] === node);
    if (!same) {
      // Reordering moves nodes, which drops focus: someone in the list keeps their place.
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      list.replaceChildren(...nodes);
      if (focused?.isConnected && document.activeElement !== focused) {
        focused.focus({ preventScroll: true });
      }
    }
    const inScope = new Set(rows.map((row) => row.entry.id));
    for (const id of items.keys()) if (!inScope.has(id)) items.delete(id);
    const total = rows.length;
    list.hidden = total === 0;
    empty.hidden = total > 0 || Boolean(options.loading);
    empty.textContent = options.emptyText || t("list.empty");
    more.hidden = total <= shown;
    count.textContent = countText(total, visible.length, options.loading);
    root.dataset.count = String(total);
  }

  sort.addEventListener("change", () => {
    shown = PAGE;
    render();
  });
  more.addEventListener("click", () => {
    const first = rows[shown]?.entry.id; // focus goes to the first of the items added
    shown += PAGE;
    render();
    items.get(first)?.li.querySelector("a")?.focus();
  });

  return {
    /** Draw the list again (the view, the data or the filter changed). */
    update(next = {}) {
      options = next;
      render();
    },
    /** Mark the item of contribution `id` (null: none), showing more items when it is further down. */
    highlight(id) {
      current = id;
      const index = rows.findIndex((row) => row.entry.id === id);
      if (index >= shown) shown = Math.ceil((index + 1) / PAGE) * PAGE;
      render();
      if (id && scrollToCurrent) items.get(id)?.li.scrollIntoView({ block: "nearest" });
    },
    /** Unmark `id` if it is the marked one. */
    unhighlight(id) {
      if (current === id) this.highlight(null);
    },
  };
}
