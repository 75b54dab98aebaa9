// Photos on the private edit page: list, add and remove them with the edit token. edit.js keeps
// the token (from the URL fragment) in sessionStorage; this script reads it from there.
import { problemText, readJSON, storedEditToken, t } from "./common.js";

const $ = (id) => document.getElementById(id);
const section = $("photos-edit");
const feature = readJSON("kaart-feature");

const editToken = () => storedEditToken(feature.id);

const base = `/api/v1/contributions/${encodeURIComponent(feature.id)}/photos`;
const fileInput = $("photo-file");
const uploadButton = $("photo-upload");
const status = $("photo-status");
const maxBytes = Number(section.dataset.maxBytes);

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("field-error", isError);
}

async function call(url, options = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const token = editToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.contentType) headers["Content-Type"] = options.contentType;
  let response;
  try {
    response = await fetch(url, { method: options.method || "GET", headers, body: options.body });
  } catch {
    return { ok: false, networkError: true };
  }
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("json")) data = await response.json();
  return { ok: response.ok, status: response.status, data };
}

function reason(result) {
  const field = result.data && result.data.errors && result.data.errors[0];
  if (field && field.field === "photo") {
    const key = `outputs.photos.error.${field.code}`;
    const text = t(key);
    return text === key ? field.reason : text;
  }
  return problemText(result);
}

function render(photos) {
  const list = $("photo-list");
  list.replaceChildren();
  $("photo-empty").hidden = photos.length > 0;
  photos.forEach((photo, index) => {
    const item = document.createElement("li");
    item.className = "photos__item";
    const img = document.createElement("img");
    img.className = "photos__thumb";
    img.src = photo.thumbnail.url;
    img.width = photo.thumbnail.width;
    img.height = photo.thumbnail.height;
    img.alt = t("outputs.photos.alt", { number: index + 1, title: feature.properties.title });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button--link photos__remove";
    remove.textContent = t("outputs.photos.remove");
    remove.setAttribute("aria-label", t("outputs.photos.remove_label", { number: index + 1 }));
    remove.addEventListener("click", () => removePhoto(photo));
    item.append(img, remove);
    list.append(item);
  });
}

async function load() {
  const result = await call(base);
  if (result.ok) render(result.data.photos);
}

async function upload() {
  const file = fileInput.files[0];
  if (!file) return;
  if (file.size > maxBytes) {
    say(t("outputs.photos.error.photo_too_large"), true);
    return;
  }
  uploadButton.disabled = true;
  say(t("outputs.photos.uploading"));
  const result = await call(base, { method: "POST", body: file, contentType: file.type });
  if (result.ok) {
    fileInput.value = "";
    say(t("outputs.photos.added"));
    await load();
  } else {
    say(reason(result), true);
    uploadButton.disabled = false;
  }
}

async function removePhoto(photo) {
  const result = await call(`${base}/${encodeURIComponent(photo.id)}`, { method: "DELETE" });
  if (result.ok) {
    say(t("outputs.photos.removed"));
    await load();
  } else {
    say(reason(result), true);
  }
}

if (!editToken()) {
  section.hidden = true; // edit.js explains that the private link is needed
} else {
  fileInput.addEventListener("change", () => {
    uploadButton.disabled = !fileInput.files.length;
    say("");
  });
  uploadButton.addEventListener("click", upload);
  load();
}
