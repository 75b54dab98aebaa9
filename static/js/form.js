// The contribution form (templates/public/_fields.html), shared by the add flow and the edit
// page: reading values, the character counter, and showing errors next to their fields. The
// add flow's form also has the author's optional e-mail address (public/_email_field.html).

import { el, errorText, t } from "./common.js";

export class ContributionForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{geometryTarget: string}} options  id of the element a geometry error points to
   */
  constructor(form, { geometryTarget }) {
    this.form = form;
    this.geometryTarget = geometryTarget;
    this.summary = form.querySelector(".error-summary");
    this.title = form.querySelector("#title");
    this.description = form.querySelector("#description");
    this.email = form.querySelector("#email"); // null on the edit page
    this.counter = form.querySelector("#description-counter");
    this.description.addEventListener("input", () => this.updateCounter());
    this.updateCounter();
  }

  values() {
    const checked = this.form.querySelector('input[name="category"]:checked');
    return {
      category: checked ? checked.value : null,
      title: this.title.value.trim(),
      description: this.description.value,
      email: this.email ? this.email.value.trim() : "",
    };
  }

  setValues({ category, title, description, email }) {
    for (const radio of this.form.querySelectorAll('input[name="category"]')) {
      radio.checked = radio.value === category;
    }
    this.title.value = title || "";
    this.description.value = description || "";
    if (this.email) this.email.value = email || "";
    this.updateCounter();
  }

  reset() {
    this.setValues({ category: null, title: "", description: "" });
    this.clearErrors();
  }

  updateCounter() {
    const max = Number(this.counter.dataset.max);
    const used = this.description.value.length;
    this.counter.textContent = t("form.counter", { count: used, max });
    this.counter.classList.toggle("counter--near", used > max * 0.9);
  }

  /** Checks that need no server: something chosen and a title given. Lengths are the
   *  inputs' maxlength and, whatever gets past that, the API's (one rule, one place). */
  localErrors() {
    const { category, title } = this.values();
    const errors = [];
    if (!category) errors.push({ field: "properties.category", code: "category_missing" });
    if (!title) errors.push({ field: "properties.title", code: "title_missing" });
    return errors.map((e) => ({ ...e, message: errorText(e) }));
  }

  clearErrors() {
    this.summary.hidden = true;
    this.summary.querySelector("ul").replaceChildren();
    for (const node of document.querySelectorAll(".field-error[data-from-form]")) {
      node.textContent = "";
      node.hidden = true;
      delete node.dataset.fromForm;
    }
    for (const node of this.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    for (const node of this.form.querySelectorAll(".field--invalid")) node.classList.remove("field--invalid");
  }

  /** Show errors beside their fields and in the summary (role=alert), then move focus there. */
  showErrors(errors) {
    this.clearErrors();
    const list = this.summary.querySelector("ul");
    for (const error of errors) {
      const target = this.targetFor(error.field);
      if (target) {
        const holder = document.getElementById(target.error);
        holder.textContent = holder.textContent ? `${holder.textContent} ${error.message}` : error.message;
        holder.hidden = false;
        holder.dataset.fromForm = "1";
        for (const input of target.inputs) input.setAttribute("aria-invalid", "true");
        if (target.field) target.field.classList.add("field--invalid");
        const link = el("a", { href: `#${target.anchor}`, "data-focus": target.anchor }, error.message);
        list.append(el("li", {}, link));
      } else {
        list.append(el("li", {}, error.message));
      }
    }
    this.summary.hidden = false;
    this.summary.focus();
  }

  targetFor(path) {
    if (!path) return null;
    const field = (id) => document.getElementById(id);
    if (path.startsWith("properties.title")) {
      return { error: "title-error", anchor: "title", inputs: [this.title], field: field("field-title") };
    }
    if (path.startsWith("properties.description")) {
      return {
        error: "description-error",
        anchor: "description",
        inputs: [this.description],
        field: field("field-description"),
      };
    }
    if (path.startsWith("properties.category")) {
      const radios = [...this.form.querySelectorAll('input[name="category"]')];
      return {
        error: "category-error",
        anchor: radios[0].id,
        inputs: radios,
        field: field("field-category"),
      };
    }
    if (path.startsWith("properties.email") && this.email) {
      return { error: "email-error", anchor: "email", inputs: [this.email], field: field("field-email") };
    }
    if (path.startsWith("properties.object")) {
      return { error: "object-error", anchor: "object-pick", inputs: [], field: field("field-object") };
    }
    if (path.startsWith("geometry") || path === "crs") {
      return { error: "geometry-error", anchor: this.geometryTarget, inputs: [], field: null };
    }
    return null;
  }
}

// Links in an error summary move focus to the field (not just scroll to it).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-focus]");
  if (!link) return;
  const target = document.getElementById(link.dataset.focus);
  if (target) {
    event.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "center", behavior: "smooth" });
  }
});
