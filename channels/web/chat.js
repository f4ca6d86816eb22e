// The citizen chat page: asks over the streaming chat API, renders the conversation from
// the server's message list, and listens to the conversation's events for officer replies.
"use strict";

const TEXT = {
  vi: {
    title: "Trợ lý Lãnh sự",
    hotline: "Khẩn cấp? Gọi đường dây nóng bảo hộ công dân 24/7",
    officer: "Nói chuyện với cán bộ",
    officer_message: "Tôi muốn nói chuyện với cán bộ lãnh sự.",
    end: "Kết thúc",
    send: "Gửi",
    placeholder: "Nhập câu hỏi của bạn…",
    you: "Bạn",
    assistant: "Trợ lý",
    officer_role: "Cán bộ lãnh sự",
    sources: "Nguồn",
    reviewed: "cập nhật",
    waiting: "Yêu cầu của bạn đã được chuyển tới cán bộ lãnh sự. Vui lòng chờ trong giây lát.",
    urgent: "Đây là trường hợp khẩn cấp: cán bộ sẽ liên hệ sớm nhất. Hãy gọi đường dây nóng nếu cần ngay.",
    claimed: "Một cán bộ lãnh sự đang hỗ trợ bạn.",
    resolved: "Cán bộ đã kết thúc cuộc trò chuyện.",
    rating_question: "Bạn hài lòng với cuộc trò chuyện này ở mức nào?",
    rating_low: "Không hài lòng",
    rating_high: "Rất hài lòng",
    rating_thanks: "Cảm ơn bạn đã đánh giá!",
    feedback_question: "Câu trả lời này có hữu ích không?",
    helpful: "Hữu ích",
    not_helpful: "Không hữu ích",
    vote_yes: "Có",
    vote_no: "Không",
    feedback_thanks: "Cảm ơn bạn!",
    comment_label: "Góp ý thêm (không bắt buộc)",
    comment_send: "Gửi góp ý",
    comment_thanks: "Cảm ơn góp ý của bạn!",
    typing: "Trợ lý đang trả lời…",
    welcome: "Xin chào! Tôi có thể giúp bạn về hộ chiếu, hộ tịch, quốc tịch, hợp pháp hóa giấy tờ, thị thực và các trường hợp khẩn cấp ở nước ngoài.",
  },
  en: {
    title: "Consular Assistant",
    hotline: "Emergency? Call the 24/7 citizen protection hotline",
    officer: "Talk to an officer",
    officer_message: "I would like to talk to a consular officer.",
    end: "End",
    send: "Send",
    placeholder: "Type your question…",
    you: "You",
    assistant: "Assistant",
    officer_role: "Consular officer",
    sources: "Sources",
    reviewed: "reviewed",
    waiting: "Your request has been passed to a consular officer. Please wait a moment.",
    urgent: "This is an emergency: an officer will contact you as soon as possible. Call the hotline if you need help now.",
    claimed: "A consular officer is helping you.",
    resolved: "The officer has closed the conversation.",
    rating_question: "How satisfied are you with this conversation?",
    rating_low: "Not satisfied",
    rating_high: "Very satisfied",
    rating_thanks: "Thank you for your rating!",
    feedback_question: "Was this answer helpful?",
    helpful: "Helpful",
    not_helpful: "Not helpful",
    vote_yes: "Yes",
    vote_no: "No",
    feedback_thanks: "Thank you!",
    comment_label: "Add a comment (optional)",
    comment_send: "Send comment",
    comment_thanks: "Thank you for your comment!",
    typing: "The assistant is answering…",
    welcome: "Hello! I can help with passports, civil status, nationality, legalization, visas and emergencies abroad.",
  },
};

const state = {
  lang: localStorage.getItem("consular.lang") || "vi",
  conversationId: sessionStorage.getItem("consular.conversation"),
  shown: new Set(),
  status: "none",
  claimed: false,
  events: null,
  score: null,
};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] || TEXT.en[key] || key;

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
  const welcome = document.querySelector(".welcome .text");
  if (welcome) welcome.textContent = t("welcome");
  showStatus();
}

function roleLabel(role) {
  return role === "user" ? t("you") : role === "officer" ? t("officer_role") : t("assistant");
}

function citationList(citations) {
  if (!citations || !citations.length) return null;
  const items = citations.map((c) => {
    const href = safeUrl(c.source);
    const title = href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, c.title) : c.title;
    return el("li", {}, title, " ", el("span", { class: "reviewed" }, `(${t("reviewed")} ${c.reviewed})`));
  });
  return el("div", { class: "sources" }, el("p", { class: "label" }, t("sources")), el("ul", {}, items));
}

function bubble(role, text, citations, extraClass, message) {
  return el(
    "li",
    { class: `msg ${role} ${extraClass || ""}`.trim() },
    el("p", { class: "who" }, roleLabel(role)),
    el("p", { class: "text" }, role === "user" ? text : richText(text)),
    citationList(citations),
    role === "assistant" && message && citations && citations.length ? voteButtons(message) : null,
  );
}

// "Was this answer helpful?" under each cited answer; the buttons' names are spoken
// (aria-label) and aria-pressed says which one the citizen chose. Each shows a word
// beside its symbol: a device without an emoji font would show an empty box alone.
function voteButtons(message) {
  const button = (helpful, symbol, key, word) =>
    el("button", {
      type: "button",
      class: "vote",
      dataset: { vote: helpful ? "1" : "0", i18nLabel: key },
      "aria-label": t(key),
      "aria-pressed": String(message.helpful === helpful),
      onclick: (event) => vote(message.id, helpful, event.currentTarget.closest(".feedback")),
    },
    el("span", { "aria-hidden": "true" }, symbol),
    el("span", { class: "word", dataset: { i18n: word } }, t(word)));
  return el(
    "div",
    { class: "feedback", role: "group", "aria-labelledby": `fb-${message.id}`, dataset: { message: message.id } },
    el("span", { id: `fb-${message.id}`, class: "label", dataset: { i18n: "feedback_question" } }, t("feedback_question")),
    button(true, "👍", "helpful", "vote_yes"),
    button(false, "👎", "not_helpful", "vote_no"),
    el("span", { class: "thanks", role: "status" }),
  );
}

async function vote(messageId, helpful, group) {
  if (!state.conversationId) return;
  const url = `/api/v1/conversations/${encodeURIComponent(state.conversationId)}/messages/${messageId}/feedback`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ helpful }),
  });
  if (!response.ok) return showError(await errorText(response));
  for (const button of group.querySelectorAll("[data-vote]")) {
    button.setAttribute("aria-pressed", String((button.dataset.vote === "1") === helpful));
  }
  group.querySelector(".thanks").textContent = t("feedback_thanks");
}

function render(messages) {
  const list = $("messages");
  for (const m of messages) {
    if (state.shown.has(m.id)) continue;
    state.shown.add(m.id);
    for (const pending of list.querySelectorAll(".pending")) pending.remove();
    list.append(bubble(m.role, m.text, m.citations, m.role === "officer" ? "from-officer" : "", m));
  }
  scrollToLatest();
}

// To the page's end, not the message's: the sticky composer would cover the last message.
function scrollToLatest() {
  window.scrollTo({ top: document.body.scrollHeight });
}

function showStatus() {
  const node = $("status");
  const key = state.claimed ? "claimed" : state.status === "urgent" ? "urgent" : state.status === "requested" ? "waiting" : null;
  node.hidden = !key;
  node.className = `status ${state.status}`;
  node.textContent = key ? t(key) : "";
}

async function refresh() {
  if (!state.conversationId) return;
  const response = await fetch(`/api/v1/conversations/${encodeURIComponent(state.conversationId)}/messages`);
  if (response.status === 404) return forget();
  if (!response.ok) return showError(await errorText(response));
  const body = await response.json();
  state.status = body.handoff.status;
  state.claimed = body.claimed;
  render(body.messages);
  showStatus();
}

function forget() {
  sessionStorage.removeItem("consular.conversation");
  state.conversationId = null;
}

function listen() {
  if (!state.conversationId || state.events) return;
  const source = new EventSource(`/api/v1/conversations/${encodeURIComponent(state.conversationId)}/events`);
  state.events = source;
  // "ready" also fires after a reconnection: whatever was missed meanwhile is fetched.
  for (const type of ["ready", "message", "update"]) source.addEventListener(type, () => refresh());
  source.addEventListener("status", (event) => {
    const data = JSON.parse(event.data);
    if (data.status === "resolved") {
      const notice = el("li", { class: "notice" }, t("resolved"));
      $("messages").append(notice);
      askRating();
    }
    refresh();
  });
}

function showError(text) {
  const node = $("error");
  node.hidden = !text;
  node.textContent = text || "";
}

// Reads a text/event-stream body from fetch (EventSource cannot POST).
async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const type = (frame.match(/^event: (.*)$/m) || [])[1];
      const data = (frame.match(/^data: (.*)$/m) || [])[1];
      if (type && data !== undefined) yield { type, data: JSON.parse(data) };
    }
  }
}

async function send(text) {
  showError(null);
  $("send").disabled = true;
  const list = $("messages");
  list.append(bubble("user", text, null, "pending"));
  const typing = el("li", { class: "msg assistant pending" }, el("p", { class: "who" }, t("assistant")), el("p", { class: "text typing" }, t("typing")));
  list.append(typing);
  try {
    const response = await fetch("/api/v1/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: text, conversation_id: state.conversationId }),
    });
    if (!response.ok) {
      for (const pending of list.querySelectorAll(".pending")) pending.remove();
      if (response.status === 404) forget();
      showError(await errorText(response));
      return false;
    }
    let streamed = "";
    for await (const event of readEvents(response)) {
      if (event.type === "delta") {
        streamed += event.data.text;
        typing.querySelector(".text").textContent = streamed;
        typing.querySelector(".text").classList.remove("typing");
        scrollToLatest();
      } else if (event.type === "done") {
        state.conversationId = event.data.conversation_id;
        sessionStorage.setItem("consular.conversation", state.conversationId);
        state.status = event.data.handoff.status;
      }
    }
    await refresh();
    listen();
    return true;
  } catch (error) {
    showError(String(error && error.message ? error.message : error));
    return false;
  } finally {
    $("send").disabled = false;
  }
}

function askRating() {
  $("rating").hidden = false;
  scrollToLatest();
}

async function postRating(body) {
  const response = await fetch(`/api/v1/conversations/${encodeURIComponent(state.conversationId)}/rating`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) showError(await errorText(response));
  return response.ok;
}

async function rate(score) {
  if (!state.conversationId || !(await postRating({ score }))) return;
  state.score = score;
  for (const button of document.querySelectorAll("[data-score]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.score) === score));
  }
  $("rating-thanks").hidden = false;
  $("rating-comment").hidden = false;
}

async function sendComment(event) {
  event.preventDefault();
  const comment = $("comment").value.trim();
  if (!comment || !state.score) return;
  if (!(await postRating({ score: state.score, comment }))) return;
  $("rating-comment").hidden = true;
  $("comment-thanks").hidden = false;
}

function start() {
  applyLanguage();
  $("messages").append(el("li", { class: "msg assistant welcome" }, el("p", { class: "who" }, t("assistant")), el("p", { class: "text" }, t("welcome"))));
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => {
      state.lang = button.dataset.lang;
      localStorage.setItem("consular.lang", state.lang);
      applyLanguage();
    });
  }
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("input").value.trim();
    if (!text) return;
    if (await send(text)) $("input").value = "";
  });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("form").requestSubmit();
    }
  });
  $("officer").addEventListener("click", () => send(t("officer_message")));
  $("end").addEventListener("click", () => (state.conversationId ? askRating() : null));
  for (const button of document.querySelectorAll("[data-score]")) {
    button.addEventListener("click", () => rate(Number(button.dataset.score)));
  }
  $("rating-comment").addEventListener("submit", sendComment);
  if (state.conversationId) refresh().then(listen);
}

document.addEventListener("DOMContentLoaded", start);
