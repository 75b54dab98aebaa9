// The address search beside a map (templates/_address_search.html): an ARIA 1.2 combobox with a
// list of answers from /api/v1/search (the loaded BAG addresses, offline). Type two characters
// or more; Arrow keys move through the answers, Enter (or a click) centres the map there, Escape
// closes the list (and clears the text when it is closed). "Mijn locatie" asks the browser
// where the resident is; a refusal is said plainly.

import { el, request, t } from "./common.js";

const WAIT_MS = 200; // after the last key press, before asking
const MIN_LENGTH = 2;
const ADDRESS_ZOOM = 19;
const STREET_ZOOM = 17;
const LOCATION_ZOOM = 18;

/** Bind the search form `form` (the macro's <form>) to `map`. */
export function setupAddressSearch(form, map) {
  if (!form) return;
  const input = form.querySelector("[role=combobox]");
  const list = form.querySelector("[role=listbox]");
  const status = form.querySelector("[role=status]");
  const locate = form.querySelector(".address-search__locate");
  let answers = [];
  let active = -1;
  let timer = null;
  let search = null;

  const say = (text) => {
    status.textContent = text;
  };

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(features) {
    answers = features;
    list.replaceChildren(
      ...features.map((feature, index) =>
        el(
          "li",
          { id: `${list.id}-${index}`, role: "option", class: "address-search__option", "aria-selected": "false" },
          feature.properties.label,
        ),
      ),
    );
    if (!features.length) {
      close();
      return;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function choose(index) {
    const feature = answers[index];
    if (!feature) return;
    const [lon, lat] = feature.geometry.coordinates;
    const zoom = feature.properties.kind === "street" ? STREET_ZOOM : ADDRESS_ZOOM;
    input.value = feature.properties.label;
    close();
    map.setView([lat, lon], zoom);
    say(t("search.moved", { label: feature.properties.label }));
  }

  async function ask() {
    const q = input.value.trim();
    search?.abort();
    if (q.length < MIN_LENGTH) {
      show([]);
      say("");
      return;
    }
    search = new AbortController();
    const result = await request(`/api/v1/search?q=${encodeURIComponent(q)}&limit=8`, {
      signal: search.signal,
    });
    if (result.aborted) return;
    if (!result.ok || !result.data) {
      show([]);
      say(t("search.failed"));
      return;
    }
    const { features, layer } = result.data;
    show(features);
    if (!layer) say(t("search.no_addresses"));
    else if (!features.length) say(t("search.none", { q }));
    else say(features.length === 1 ? t("search.one") : t("search.many", { count: features.length }));
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && answers.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open && answers.length) show(answers);
      highlight(Math.min(active + 1, answers.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (open) highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter") {
      event.preventDefault(); // never submit the form: the answer is a place on the map
      if (open) choose(active >= 0 ? active : 0);
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        event.stopPropagation();
        close();
      } else if (input.value) {
        input.value = "";
        say("");
      }
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150)); // after a click on an option
  list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) choose([...list.children].indexOf(option));
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  locate?.addEventListener("click", () => {
    if (!navigator.geolocation) {
      say(t("search.location_unavailable"));
      return;
    }
    say(t("search.locating"));
    navigator.geolocation.getCurrentPosition(
      (position) => {
        map.setView([position.coords.latitude, position.coords.longitude], LOCATION_ZOOM);
        say(t("search.located"));
      },
      (error) => say(t(error.code === error.PERMISSION_DENIED ? "search.location_denied" : "search.location_unavailable")),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
}
