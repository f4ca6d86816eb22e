// The content console: save drafts, preview, submit, publish or reject, retire, roll
// back, upload. Every POST carries the session's CSRF token; every text goes in through
// textContent (dom.js), except the preview, which is HTML rendered by the server with raw
// HTML escaped (channels/content_form.py).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const API = "/console/api/content";
const FLASH_KEY = "content-flash";

function toast(text) {
  const node = document.getElementById("toast");
  node.hidden = !text;
  node.textContent = text || "";
}

function notice(text) {
  const node = document.getElementById("notice");
  node.hidden = !text;
  node.textContent = text || "";
}

function showProblems(list) {
  const panel = document.getElementById("problems-panel");
  if (!panel) return;
  document.getElementById("problems").replaceChildren(...(list || []).map((p) => el("li", {}, p)));
  panel.hidden = !(list && list.length);
}

// A message that survives the reload after an action.
function reloadWith(message, url) {
  if (message) sessionStorage.setItem(FLASH_KEY, message);
  window.location.assign(url || window.location.pathname + window.location.search);
}

async function send(path, options) {
  const response = await fetch(path, {
    method: "POST",
    ...options,
    headers: { "X-CSRF-Token": csrf, ...(options.headers || {}) },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_) { /* not JSON */ }
  if (response.status === 401) {
    window.location.assign("/console/login");
    return null;
  }
  if (!response.ok) {
    toast(body && typeof body.detail === "string" ? body.detail : `Error ${response.status}`);
    if (body && body.problems) showProblems(body.problems);
    return null;
  }
  toast(null);
  return body;
}

function postJson(path, data) {
  return send(path, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(data || {}) });
}

// -- editor -------------------------------------------------------------------------------

// In the order the document had them (then any new ones): an unchanged list stays
// unchanged in the diff.
function checkedTopics(form) {
  const fieldset = form.querySelector("fieldset.topics");
  const order = (fieldset.dataset.order || "").split(" ").filter(Boolean);
  const rank = (topic) => (order.includes(topic) ? order.indexOf(topic) : order.length);
  const checked = [...fieldset.querySelectorAll("input[name=topics]:checked")].map((box) => box.value);
  return checked.map((topic, i) => [rank(topic), i, topic]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((t) => t[2]);
}

function formData(form) {
  const value = (name) => (form.elements[name] ? form.elements[name].value : "");
  return {
    doc_id: value("doc_id").trim(),
    lang: value("lang").trim(),
    title: value("title"),
    topics: checkedTopics(form),
    missions: value("missions"),
    source: value("source"),
    reviewed: value("reviewed"),
    summary: value("summary"),
    status: value("status") || "draft",
    body: value("body"),
    reason: value("reason"),
    new: form.dataset.new === "true",
  };
}

let previewTimer = null;
let previewSeq = 0;

async function refreshPreview(text) {
  const seq = ++previewSeq;
  const done = await postJson(`${API}/preview`, { body: text });
  // An older answer arriving late must not replace a newer one.
  if (done && seq === previewSeq) {
    // The one place HTML is inserted: the server rendered it with raw HTML escaped.
    document.getElementById("preview").innerHTML = done.html;
  }
}

function setUpEditor() {
  const form = document.getElementById("editor");
  if (!form) return;
  const body = document.getElementById("body");
  body.addEventListener("input", () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => refreshPreview(body.value), 300);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = formData(form);
    if (!data.reason.trim()) {
      toast("Say why you make this change: it is kept in the history.");
      form.elements.reason.focus();
      return;
    }
    const done = await postJson(`${API}/drafts`, data);
    if (!done) return;
    const problems = done.problems.length ? ` It has ${done.problems.length} problem(s) to fix before review.` : "";
    reloadWith(`Draft saved as revision ${done.revision.number}.${problems}`, done.editor_url);
  });
}

// -- actions on the shown revision ------------------------------------------------------------

function setUpActions() {
  const state = document.getElementById("revision-state");
  if (!state) return;
  const id = state.dataset.revision;
  const docPath = `${API}/documents/${encodeURIComponent(state.dataset.doc)}/${encodeURIComponent(state.dataset.lang)}`;
  const on = (selector, handler) => {
    const node = document.getElementById(selector);
    if (node) node.addEventListener(node.tagName === "FORM" ? "submit" : "click", handler);
  };
  on("submit-review", async () => {
    const done = await postJson(`${API}/revisions/${id}/submit`);
    if (done) reloadWith(`Revision ${done.revision.number} is waiting for a second editor.`);
  });
  on("publish", async () => {
    const note = document.getElementById("review-note").value;
    const done = await postJson(`${API}/revisions/${id}/publish`, { note });
    if (done) reloadWith(done.message);
  });
  on("reject", async () => {
    const input = document.getElementById("review-note");
    if (!input.value.trim()) {
      toast("Say why you reject it (in the note): the author needs to know.");
      input.focus();
      return;
    }
    const done = await postJson(`${API}/revisions/${id}/reject`, { reason: input.value });
    if (done) reloadWith(`Revision ${done.revision.number} is rejected.`);
  });
  on("retire", async (event) => {
    event.preventDefault();
    const reason = event.target.elements.reason.value;
    if (!window.confirm("Retire this document? Citizens will no longer be answered from it.")) return;
    const done = await postJson(`${docPath}/retire`, { reason });
    if (done) reloadWith(done.message);
  });
  setUpRollback(docPath);
}

function setUpRollback(docPath) {
  const dialog = document.getElementById("rollback-dialog");
  if (!dialog) return;
  let target = null;
  for (const button of document.querySelectorAll("button.rollback")) {
    button.addEventListener("click", () => {
      target = button.dataset.revision;
      document.getElementById("rollback-number").textContent = button.dataset.number;
      document.getElementById("rollback-reason").value = "";
      dialog.showModal();
    });
  }
  document.getElementById("rollback-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("rollback-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = document.getElementById("rollback-reason").value;
    if (!reason.trim()) return;
    dialog.close();
    const done = await postJson(`${docPath}/rollback`, { to_revision_id: Number(target), reason });
    if (done) reloadWith(done.message, done.editor_url);
  });
}

// -- upload -------------------------------------------------------------------------------------

function setUpUpload() {
  const form = document.getElementById("upload");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    notice("Converting the file…");
    const done = await send(`${API}/upload`, { body: new FormData(form) });
    button.disabled = false;
    notice(null);
    if (done) reloadWith(`${done.revision.title}: imported as draft revision ${done.revision.number}.`, done.editor_url);
  });
}

const flash = sessionStorage.getItem(FLASH_KEY);
if (flash) {
  sessionStorage.removeItem(FLASH_KEY);
  notice(flash);
}
setUpEditor();
setUpActions();
setUpUpload();
