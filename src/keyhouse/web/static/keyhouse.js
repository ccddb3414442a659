// Copy buttons: <button data-copy="ID"> copies the value of the element with that id.
"use strict";

async function copyText(text, source) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_error) {
      // Permission refused: fall back to selecting the text.
    }
  }
  source.focus();
  source.select();
  try {
    return document.execCommand("copy");
  } catch (_error) {
    return false;
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const source = document.getElementById(button.dataset.copy);
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const copied = await copyText(source.value, source);
  button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
  if (!copied) {
    source.select();
  }
  setTimeout(() => { button.textContent = label; }, 2500);
});
