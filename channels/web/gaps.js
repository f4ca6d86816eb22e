// The knowledge-gaps report: filters, groups of similar questions, and drafts started from
// a group or from an officer's reply. Every POST carries the session's CSRF token; every
// text goes in through textContent (dom.js).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const API = "/console/api/gaps";
const REASONS = {
  low_confidence: "low confidence",
  no_answer: "no answer",
  declined_consular: "declined, but consular",
  handoff_requested: "officer requested",
  handoff_offered: "officer offered",
  not_helpful: "rated not helpful",
};

function show(id, text) {
  const node = document.getElementById(id);
  node.hidden = !text;
  node.textContent = text || "";
}

function filters() {
  const form = new FormData(document.getElementById("gap-filters"));
  const out = {};
  for (const [name, value] of form.entries()) if (value) out[name] = value;
  return out;
}

async function getJson(path) {
  const response = await fetch(path);
  if (response.status === 401) return window.location.assign("/console/login");
  if (!response.ok) {
    show("toast", await errorText(response));
    return null;
  }
  return response.json();
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (!response.ok) {
    show("toast", await errorText(response));
    return null;
  }
  show("toast", null);
  return response.json();
}

// A draft is saved: say so, then open it in the editor.
function openDraft(done) {
  if (!done) return;
  show("notice", `${done.notice} Opening ${done.doc_id} (${done.lang})…`);
  window.location.assign(done.url);
}

function when(iso) {
  return new Date(iso).toLocaleString();
}

function reasonList(reasons) {
  return Object.entries(reasons).map(([name, n]) => el("span", { class: `badge reason ${name}` }, `${REASONS[name] || name} ${n}`));
}

function groupItem(group) {
  const start = el("button", { type: "button", onclick: async (e) => {
    e.target.disabled = true;
    openDraft(await post(`${API}/${encodeURIComponent(group.id)}/draft`, filters()));
    e.target.disabled = false;
  } }, "Start a draft");
  const docs = group.documents.length
    ? el("p", { class: "small muted" }, "Closest guidance: ", group.documents.map((d) => `${d.title} (${d.doc_id}, ${d.lang}) ×${d.questions}`).join(" · "))
    : el("p", { class: "small muted" }, "No guidance came close.");
  return el("li", { class: "panel gap-group", dataset: { id: group.id } },
    el("div", { class: "content-head" },
      el("h3", {}, el("span", { class: "gap-count" }, String(group.count)), " ", group.representative),
      start),
    el("p", { class: "gap-meta" }, el("span", { class: "badge" }, group.language), " ", ...reasonList(group.reasons),
      el("span", { class: "muted small" }, ` first ${when(group.first_seen)} · last ${when(group.last_seen)}`)),
    el("ul", { class: "gap-examples" }, group.examples.map((x) => el("li", {}, x.text, el("span", { class: "muted small" }, ` · ${when(x.asked_at)}`)))),
    docs);
}

function replyItem(reply) {
  const button = el("button", { type: "button", onclick: async (e) => {
    e.target.disabled = true;
    openDraft(await post(`${API}/replies/${reply.message_id}/draft`));
    e.target.disabled = false;
  } }, "Draft from this reply");
  const cited = reply.cited ? ` · cited ${reply.cited.doc_id} (${reply.cited.lang})` : "";
  return el("li", { class: "panel gap-reply" },
    el("p", { class: "small muted" }, `${reply.officer || "officer"} · ${when(reply.created_at)} · ${reply.language || "?"}${cited}`),
    reply.question ? el("p", {}, el("strong", {}, "Citizen: "), reply.question) : null,
    el("p", { class: "gap-reply-text" }, el("strong", {}, "Officer: "), reply.reply),
    button);
}

async function loadGroups() {
  const query = new URLSearchParams(filters()).toString();
  show("gap-summary", "Loading…");
  const data = await getJson(`${API}${query ? `?${query}` : ""}`);
  if (!data) return;
  document.getElementById("gap-groups").replaceChildren(...data.groups.map(groupItem));
  show("gap-summary", data.groups.length
    ? `${data.questions} questions in ${data.groups.length} groups.`
    : "No unanswered questions for these filters.");
}

async function loadReplies() {
  const data = await getJson(`${API}/replies`);
  if (!data) return;
  document.getElementById("officer-replies").replaceChildren(...data.replies.map(replyItem));
  document.getElementById("replies-empty").hidden = data.replies.length > 0;
}

// The report starts with the last DEFAULT_DAYS days (clear "From" for everything): recent
// gaps matter most, and the first report after a restart embeds every question it covers.
const DEFAULT_DAYS = 90;
const since = document.querySelector('#gap-filters input[name="since"]');
since.value = new Date(Date.now() - DEFAULT_DAYS * 86400000).toISOString().slice(0, 10);

document.getElementById("gap-filters").addEventListener("submit", (e) => {
  e.preventDefault();
  loadGroups();
});
loadGroups();
loadReplies();
