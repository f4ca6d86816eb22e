// The officer console: live queue, conversation view and actions. Every POST carries the
// session's CSRF token; every text is rendered through textContent (dom.js).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const me = document.body.dataset.me;
let selected = null;
let viewEvents = null;
let queueItems = [];

function toast(text) {
  const node = document.getElementById("toast");
  node.hidden = !text;
  node.textContent = text || "";
  if (text) setTimeout(() => { if (node.textContent === text) node.hidden = true; }, 8000);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (!response.ok) {
    toast(await errorText(response));
    return null;
  }
  return response.json();
}

function waited(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function renderQueue() {
  const now = Date.now();
  const rows = queueItems.map((item) => {
    const seconds = Math.max(0, Math.round((now - Date.parse(item.waiting_since)) / 1000));
    const claimButton = item.claimed_by
      ? null
      : el("button", { type: "button", class: "claim", onclick: (e) => { e.stopPropagation(); claim(item.conversation_id); } }, "Claim");
    return el(
      "tr",
      { class: `${item.status} ${item.conversation_id === selected ? "selected" : ""}`, dataset: { id: item.conversation_id }, onclick: () => openConversation(item.conversation_id) },
      el("td", {}, el("span", { class: `badge ${item.status}` }, item.status)),
      el("td", {}, waited(seconds)),
      el("td", {}, item.language || "?"),
      el("td", {}, item.channel),
      el("td", {}, item.topic || "—"),
      el("td", {}, item.claimed_by || "—"),
      el("td", {}, claimButton),
    );
  });
  document.getElementById("queue").replaceChildren(...rows);
  document.getElementById("queue-empty").hidden = rows.length > 0;
  document.getElementById("queue-count").textContent = `(${rows.length})`;
}

async function loadQueue() {
  const response = await fetch("/console/api/queue");
  if (response.status === 401) return window.location.assign("/console/login");
  if (!response.ok) return toast(await errorText(response));
  queueItems = (await response.json()).items;
  renderQueue();
}

async function claim(id) {
  const done = await post(`/console/api/conversations/${encodeURIComponent(id)}/claim`);
  if (done) {
    toast(null);
    await openConversation(id);
  }
  await loadQueue();
}

function citations(list) {
  if (!list || !list.length) return null;
  return el("ul", { class: "cites" }, list.map((c) => {
    const href = safeUrl(c.source);
    return el("li", {}, href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, c.title) : c.title,
      ` · ${c.doc_id} (${c.lang}) · reviewed ${c.reviewed}`);
  }));
}

// An officer's reply becomes a guidance draft for the content editors to review.
function proposeButton(conversationId, m) {
  const status = el("span", { class: "muted small", role: "status" });
  const button = el("button", { type: "button", class: "quiet propose", onclick: async () => {
    button.disabled = true;
    const done = await post(`/console/api/conversations/${encodeURIComponent(conversationId)}/messages/${m.id}/draft`);
    button.disabled = false;
    if (done) status.textContent = ` Draft ${done.doc_id} (${done.lang}) saved. ${done.notice}`;
  } }, "Propose as guidance");
  return el("p", { class: "propose-row" }, button, status);
}

function messageItem(m, conversationId) {
  const meta = [m.role, new Date(m.created_at).toLocaleString()];
  if (m.role === "assistant" && m.confidence !== null && m.confidence !== undefined) meta.push(`confidence ${m.confidence.toFixed(2)}`);
  if (m.declined) meta.push("declined");
  const retrieved = m.retrieved && m.retrieved.length
    ? el("p", { class: "muted small" }, "Retrieved: ", m.retrieved.map((r) => `${r.doc_id} (${r.lang}) ${Number(r.confidence).toFixed(2)}`).join(" · "))
    : null;
  const propose = m.role === "officer" && conversationId ? proposeButton(conversationId, m) : null;
  return el("li", { class: `msg ${m.role}` }, el("p", { class: "meta" }, meta.join(" · ")), el("p", { class: "text" }, m.text), citations(m.citations), retrieved, propose);
}

function missionCard(mission) {
  if (!mission) return el("p", { class: "muted" }, "No mission identified.");
  const line = (label, value) => (value ? el("p", {}, el("strong", {}, `${label}: `), value) : null);
  return el("div", { class: "mission" },
    el("h4", {}, mission.name.en || mission.name.vi),
    line("Address", mission.address), line("Phone", mission.phone),
    line("Emergency", mission.emergency_hotline), line("E-mail", mission.email),
    line("Hours", mission.opening_hours.en || mission.opening_hours.vi),
    mission.website && safeUrl(mission.website) ? el("a", { href: safeUrl(mission.website), target: "_blank", rel: "noopener noreferrer" }, mission.website) : null);
}

function textForm(label, button, onsubmit) {
  const input = el("textarea", { rows: 3, maxlength: 4000, required: true, "aria-label": label, placeholder: label });
  return el("form", { class: "text-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (text && (await onsubmit(text))) input.value = "";
  } }, input, el("button", { type: "submit" }, button));
}

function renderView(data) {
  const c = data.conversation;
  const mine = c.claimed_by === me;
  const path = `/console/api/conversations/${encodeURIComponent(c.id)}`;
  const act = async (action, body) => { if (await post(`${path}/${action}`, body)) { await openConversation(c.id); await loadQueue(); } };
  const actions = el("div", { class: "actions" },
    c.claimed_by ? el("span", { class: "muted" }, mine ? "You have this conversation." : `Claimed by ${c.claimed_by}.`)
      : el("button", { type: "button", class: "claim", onclick: () => claim(c.id) }, "Claim"),
    mine ? el("button", { type: "button", onclick: () => act("resolve", { resolution: null }) }, "Resolve") : null,
    mine ? el("button", { type: "button", class: "quiet", onclick: () => act("release") }, "Hand back to the assistant") : null);
  const header = el("div", { class: "view-head" },
    el("h3", {}, `Conversation · ${c.channel} · ${c.language || "?"}`),
    el("p", {}, el("span", { class: `badge ${c.status}` }, c.status), " ", c.reason || "", c.resolved_at ? ` · resolved by ${c.resolved_by}` : ""),
    data.rating ? el("p", { class: "muted" }, `Citizen rating: ${data.rating}/5`) : null,
    data.rating_comment ? el("blockquote", { class: "muted" }, data.rating_comment) : null,
    actions);
  const history = el("ol", { class: "history" }, data.messages.map((m) => messageItem(m, c.id)));
  const reply = mine ? textForm("Reply to the citizen", "Send reply", async (text) => {
    const done = await post(`${path}/reply`, { text });
    if (done && !done.delivered) toast(done.problem);
    if (done) await openConversation(c.id);
    return Boolean(done);
  }) : null;
  const notes = el("section", { class: "notes" }, el("h4", {}, "Internal notes"),
    el("ul", {}, data.notes.map((n) => el("li", {}, el("strong", {}, `${n.author}: `), n.text))),
    textForm("Add an internal note (never shown to the citizen)", "Add note", async (text) => {
      const done = await post(`${path}/notes`, { text });
      if (done) await openConversation(c.id);
      return Boolean(done);
    }));
  const audit = el("details", { class: "audit" }, el("summary", {}, "Audit log"),
    el("ul", {}, data.audit.map((a) => el("li", {}, `${new Date(a.created_at).toLocaleString()} · ${a.actor} · ${a.action}`))));
  const side = el("aside", {}, el("h4", {}, "Mission"), missionCard(data.mission), notes, audit);
  document.getElementById("view").replaceChildren(header, el("div", { class: "view-body" }, el("div", {}, history, reply), side));
}

async function openConversation(id) {
  const changed = selected !== id;
  selected = id;
  const response = await fetch(`/console/api/conversations/${encodeURIComponent(id)}`);
  if (!response.ok) return toast(await errorText(response));
  renderView(await response.json());
  renderQueue();
  if (changed) {
    if (viewEvents) viewEvents.close();
    viewEvents = new EventSource(`/api/v1/conversations/${encodeURIComponent(id)}/events`);
    for (const type of ["update", "status", "message"]) {
      viewEvents.addEventListener(type, () => { if (selected === id) openConversation(id); });
    }
  }
}

const queueEvents = new EventSource("/console/api/events");
for (const type of ["ready", "queue"]) queueEvents.addEventListener(type, loadQueue);
setInterval(renderQueue, 15000);  // wait times tick without a server round trip
// Conversations queued by another process (the Telegram poller without Redis) publish no
// event here: a slower refresh from the server catches them.
setInterval(loadQueue, 30000);
loadQueue();
