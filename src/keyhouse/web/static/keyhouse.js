// Small page behaviours, all optional: every page works without this file.
// - <button data-copy="ID"> copies the text (or value) of the element with that id, and says
//   "Copied" on the button and in the page's [data-copy-status] live region.
// - [data-focus]: the element that shows an action's result gets focus when the page opens.
// - <form data-submit-once>: a second click while the first submit is on its way does nothing.
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
  selectAll(source);
  try {
    return document.execCommand("copy");
  } catch (_error) {
    return false;
  }
}

function selectAll(source) {
  if (typeof source.select === "function") {
    source.focus();
    source.select();
    return;
  }
  window.getSelection().selectAllChildren(source);
}

function announce(text) {
  const status = document.querySelector("[data-copy-status]");
  if (status) {
    status.textContent = "";
    // A fresh text node, so that a second "Copied" is announced too.
    window.setTimeout(() => { status.textContent = text; }, 50);
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
  const text = source.value !== undefined ? source.value : source.textContent.trim();
  const copied = await copyText(text, source);
  button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
  announce(copied ? "Copied to the clipboard" : "Copy did not work: the key is selected, press Ctrl+C");
  if (!copied) {
    selectAll(source);
  }
  setTimeout(() => { button.textContent = label; }, 2500);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-submit-once]")) {
    return;
  }
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "yes";
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.setAttribute("aria-disabled", "true");
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const result = document.querySelector("[data-focus]");
  if (result) {
    result.focus();
  }
});

// Back to a page kept in the browser's memory: its form may be sent again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-submitted]")) {
    delete form.dataset.submitted;
  }
});
