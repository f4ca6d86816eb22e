// The administrators' dashboard: reads the report for the filters in the address bar and
// draws each figure with Chart.js (vendored, /static/vendor). Every chart also gets a
// visually hidden table and a short aria-label, and its CSV link carries the same filters.
"use strict";

const FILTERS = ["date_from", "date_to", "mission", "channel", "period"];
const COLORS = ["#0b5394", "#e69138", "#0f6e4f", "#b3261e", "#674ea7", "#45818e", "#bf9000", "#999999"];
const TOTALS = [
  ["conversations", "Conversations"],
  ["answered_by_assistant", "Answered by the assistant"],
  ["handed_off_share", "Handed off", "percent"],
  ["urgent", "Urgent handoffs"],
  ["first_reply_median_minutes", "Median first reply (min)"],
  ["resolution_median_minutes", "Median resolution (min)"],
  ["mean_score", "Mean rating (1-5)"],
  ["helpful_share", "Answers rated helpful", "percent"],
];

// How each figure is drawn: chart type, the label column and the columns drawn as series.
const CHARTS = {
  conversations_by_day: { type: "bar", series: [["conversations", "Conversations"]] },
  conversations_by_language: { type: "doughnut", series: [["conversations", "Conversations"]] },
  conversations_by_channel: { type: "doughnut", series: [["conversations", "Conversations"]] },
  conversations_by_topic: { type: "bar", horizontal: true, series: [["conversations", "Conversations"]] },
  handling: { type: "doughnut", series: [["conversations", "Conversations"]] },
  urgent_by_day: { type: "bar", color: "#b3261e", series: [["urgent", "Urgent handoffs"]] },
  response_times: { type: "bar", series: [["median_minutes", "Median (min)"], ["p90_minutes", "p90 (min)"]] },
  response_times_by_day: {
    type: "line",
    series: [["first_reply_median_minutes", "First reply, median (min)"], ["resolution_median_minutes", "Resolution, median (min)"]],
  },
  satisfaction_over_time: {
    type: "line",
    series: [["mean_score", "Mean rating (1-5)", "score"], ["helpful_share", "Helpful answers (%)", "percent"]],
  },
  satisfaction_by_topic: {
    type: "bar",
    series: [["mean_score", "Mean rating (1-5)", "score"], ["helpful_share", "Helpful answers (%)", "percent"]],
  },
  satisfaction_by_channel: {
    type: "bar",
    series: [["mean_score", "Mean rating (1-5)", "score"], ["helpful_share", "Helpful answers (%)", "percent"]],
  },
};

const charts = {};
const $ = (id) => document.getElementById(id);

function query() {
  const params = new URLSearchParams(window.location.search);
  const out = new URLSearchParams();
  for (const name of FILTERS) if (params.get(name)) out.set(name, params.get(name));
  return out;
}

function showError(text) {
  const node = $("toast");
  node.hidden = !text;
  node.textContent = text || "";
}

function formatted(value, kind) {
  if (value === null || value === undefined) return "–";
  if (kind === "percent") return `${Math.round(value * 1000) / 10} %`;
  return String(value);
}

function renderTotals(totals) {
  const list = $("totals");
  list.replaceChildren();
  for (const [key, label, kind] of TOTALS) {
    list.append(el("div", { class: "total" }, el("dt", {}, label), el("dd", { dataset: { total: key } }, formatted(totals[key], kind))));
  }
}

function renderTable(name, figure) {
  const table = $(`table-${name}`);
  const head = el("thead", {}, el("tr", {}, figure.columns.map((c) => el("th", { scope: "col" }, c))));
  const body = el("tbody", {}, figure.rows.map((row) => el("tr", {}, row.map((v) => el("td", {}, v === null ? "" : String(v))))));
  table.replaceChildren(el("caption", {}, figure.title), head, body);
}

function summary(figure) {
  if (!figure.rows.length) return `${figure.title}: no data for these filters.`;
  const shown = figure.rows.slice(0, 6).map((row) => `${row[0]}: ${row.slice(1).map((v) => (v === null ? "none" : v)).join(", ")}`);
  const more = figure.rows.length > 6 ? `; and ${figure.rows.length - 6} more rows in the table` : "";
  return `${figure.title} (${figure.columns.slice(1).join(", ")}). ${shown.join("; ")}${more}.`;
}

function datasets(spec, figure) {
  const index = (column) => figure.columns.indexOf(column);
  return spec.series.map(([column, label, axis], i) => {
    const values = figure.rows.map((row) => {
      const value = row[index(column)];
      if (value === null) return null;
      return axis === "percent" ? Math.round(value * 1000) / 10 : value;
    });
    const color = spec.color || COLORS[i % COLORS.length];
    const data = { label, data: values, spanGaps: true };
    if (spec.type === "doughnut") {
      data.backgroundColor = figure.rows.map((_, n) => COLORS[n % COLORS.length]);
    } else {
      data.backgroundColor = color;
      data.borderColor = color;
    }
    if (axis) data.yAxisID = axis === "percent" ? "percent" : "y";
    return data;
  });
}

function scales(spec) {
  if (spec.type === "doughnut") return {};
  const hasPercent = spec.series.some(([, , axis]) => axis === "percent");
  const hasScore = spec.series.some(([, , axis]) => axis === "score");
  // Counts and minutes: whole-number ticks (no "0.4 conversations").
  const out = { y: { beginAtZero: true, ticks: { precision: 0 } } };
  if (hasScore) out.y = { min: 0, max: 5, title: { display: true, text: "rating" } };
  if (hasPercent) out.percent = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } };
  if (spec.horizontal) return { x: { beginAtZero: true, ticks: { precision: 0 } } };
  return out;
}

function draw(name, figure) {
  const spec = CHARTS[name];
  const canvas = $(`chart-${name}`);
  if (!spec || !canvas) return;
  canvas.setAttribute("aria-label", summary(figure));
  renderTable(name, figure);
  const config = {
    type: spec.type,
    data: { labels: figure.rows.map((row) => String(row[0])), datasets: datasets(spec, figure) },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      scales: scales(spec),
      plugins: { legend: { display: spec.type === "doughnut" || spec.series.length > 1, position: "bottom" } },
    },
  };
  if (charts[name]) charts[name].destroy();
  charts[name] = new Chart(canvas, config);
}

function linkCsv(params) {
  const suffix = params.toString() ? `?${params}` : "";
  for (const link of document.querySelectorAll("[data-csv]")) {
    link.href = `/console/api/analytics/${link.dataset.csv}.csv${suffix}`;
  }
}

async function load() {
  const params = query();
  for (const name of FILTERS) {
    const input = $(name);
    if (input) input.value = params.get(name) || "";
  }
  linkCsv(params);
  const response = await fetch(`/console/api/analytics?${params}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return showError(await errorText(response));
  showError(null);
  const report = await response.json();
  renderTotals(report.totals);
  for (const [name, figure] of Object.entries(report.figures)) draw(name, figure);
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return showError("The chart library did not load.");
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  load();
});
