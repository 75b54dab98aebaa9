// Photos on the private edit page: list, add and remove them with the edit token. edit.js keeps
// the token (from the URL fragment) in sessionStorage; this script reads it from there. An
// upload carries an Idempotency-Key (send.js), so a retry never stores the photo twice.
import { problemText, readJSON, request, storedEditToken, t } from "./common.js";
import { sendWrite, WriteKey } from "./send.js";

const $ = (id) => document.getElementById(id);
const section = $("photos-edit");
const feature = readJSON("kaart-feature");

const editToken = () => storedEditToken(feature.id);

const base = `/api/v1/contributions/${encodeURIComponent(feature.id)}/photos`;
const fileInput = $("photo-file");
const uploadButton = $("photo-upload");
const status = $("photo-status");
const maxBytes = Number(section.dataset.maxBytes);
const write = new WriteKey(); // the key of the photo being uploaded: one per file, kept on retries

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("field-error", isError);
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
  const result = await request(base, { token: editToken() });
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
  const result = await sendWrite(base, {
    body: file,
    token: editToken(),
    writeKey: write,
    fingerprint: `${file.name}:${file.size}:${file.lastModified}`,
    status,
  });
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
  const url = `${base}/${encodeURIComponent(photo.id)}`;
  const result = await request(url, { method: "DELETE", token: editToken() });
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
