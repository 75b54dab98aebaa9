// "Gaat over": the open-data object a contribution is about (a BAG pand, a BGT green area, a
// tree), chosen by clicking it on the map. Shared by the add flow and the edit page; the markup
// is templates/public/_object.html.

import { config, request, t } from "./common.js";
import { objectLabel } from "./layers/names.js";
import { objectsAt } from "./layers/pick.js";

export class ObjectChoice {
  /**
   * @param {HTMLElement} root  the #field-object element
   * @param {{map: L.Map, onChange?: Function}} options
   */
  constructor(root, { map, onChange = () => {} }) {
    this.root = root;
    this.map = map;
    this.onChange = onChange;
    this.value = null; // {layer, id, layer_title}
    this.picking = false;
    this.pickButton = root.querySelector("#object-pick");
    this.status = root.querySelector("#object-status");
    this.pickButton.addEventListener("click", () => this.setPicking(!this.picking));
    root.querySelector("#object-remove").addEventListener("click", () => {
      this.set(null);
      this.onChange();
      this.pickButton.focus();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.picking) {
        event.preventDefault();
        this.setPicking(false);
        this.pickButton.focus();
      }
    });
  }

  /** An object as the inspect popup found it, in the form the API returns. */
  static fromInspected({ layer, id }) {
    return { layer: layer.name, id: String(id), layer_title: layer.title };
  }

  set(value) {
    this.value = value;
    this.setPicking(false);
    this.say("");
    const chosen = this.root.querySelector("#object-chosen");
    chosen.hidden = !value;
    this.root.querySelector("#object-chosen-text").textContent = value
      ? objectLabel(value, config.layers)
      : "";
    this.pickButton.textContent = t(value ? "object.change" : "object.pick");
    const error = this.root.querySelector("#object-error");
    error.hidden = true;
    error.textContent = "";
  }

  /** What the API takes: {layer, id}. */
  reference() {
    return this.value ? { layer: this.value.layer, id: this.value.id } : null;
  }

  setPicking(on) {
    this.picking = on;
    document.body.classList.toggle("is-picking", on);
    this.pickButton.setAttribute("aria-pressed", String(on));
    this.say(on ? t("object.picking") : "");
  }

  say(text) {
    this.status.textContent = text;
  }

  /** While picking, take the object under a map click; true when the click was used. */
  pickAt(latlng, layers) {
    if (!this.picking) return false;
    this.setPicking(false);
    this.say(t("object.searching"));
    objectsAt(this.map, latlng, layers, { request }).then((found) => {
      if (found === null) this.say(t("object.error"));
      else if (!found.length) this.say(t("object.none_here"));
      else {
        this.set(ObjectChoice.fromInspected({ layer: found[0].layer, id: found[0].feature.properties.feature_id }));
        this.onChange();
        this.say(t("object.chosen", { label: objectLabel(this.value, config.layers) }));
      }
    });
    return true;
  }
}
