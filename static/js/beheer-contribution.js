// /beheer contribution page: a chosen standard response fills the response field.

const choice = document.getElementById("standard-response");
const response = document.getElementById("response");
if (choice && response) {
  choice.addEventListener("change", () => {
    if (choice.value) response.value = choice.value;
  });
}
