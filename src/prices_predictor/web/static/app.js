"use strict";
// The form, the labels and the levels all come from the served model's spec (GET /v1/model):
// this page knows no data set.
const fmt = (v) => "$" + Math.round(v).toLocaleString("en-US");
const signed = (v) => (v >= 0 ? "+" : "−") + fmt(Math.abs(v));
const pct = (v) => (100 * v).toFixed(1) + "%";
const dec = (n) => (v) => Number(v).toFixed(n);
const count = (v) => Math.round(v).toLocaleString("en-US");
const secs = (v) => Number(v).toFixed(1) + " s";
// The card's metrics: label, format with its unit, and what the number means.
const METRICS = {
  rmse: ["RMSE, log price", dec(4), "typical holdout error: 0.10 is about ±10% of the price"],
  baseline_rmse: ["Baseline RMSE, log price", dec(4),
    "a median price per size, scored on the same holdout houses"],
  baseline_gain: ["Gain over the baseline", pct, "how much lower the model's RMSE is"],
  r2: ["R²", dec(3), "share of the variation in (log) prices the model explains"],
  mae_dollars: ["Mean absolute error", fmt, "average miss on a holdout house, in dollars"],
  median_ape: ["Median error", pct, "half the holdout houses are priced closer than this"],
  interval_coverage: ["Range coverage", pct,
    "share of holdout prices inside their 80% range (should be near 80%)"],
  holdout_rows: ["Holdout houses", count, "sales kept aside: never used to fit or choose"],
  train_rows: ["Training houses", count, "sales the model was fitted on"],
  cv_rmse_mean: ["CV RMSE, log price", dec(4), "the same error, cross-validated on training"],
  cv_rmse_std: ["CV RMSE spread", dec(4), "standard deviation across the CV folds"],
  fit_seconds: ["Fit time", secs, "cross-validation plus the final fit"],
  tune_gain: ["Tuning gain", pct, "CV improvement of the tuned parameters over the defaults"],
  tune_trials: ["Tuning trials", count, "parameter sets tried"],
  tune_default_cv_rmse: ["CV RMSE of the defaults", dec(4), "before tuning, same folds"],
  tune_best_cv_rmse: ["CV RMSE after tuning", dec(4), "the best parameters found"],
  tune_kept_defaults: ["Defaults kept", (v) => (v ? "yes" : "no"), "tuning found no CV gain"],
  interval_halfwidth_log: ["Range half-width, log price", dec(3),
    "the 80% range is the price times exp(±this)"],
  location_blocks: ["Location blocks", count, "parcel blocks with a learned location effect"],
  location_sales: ["Located sales", count, "training sales the location effect learned from"],
  location_effect_sd: ["Location effect spread", pct,
    "standard deviation of the location effects (log price, ~percent)"],
};
const SKIP = new Set(["mse"]);
let fields = [];
let labels = {};
let columns = {};  // API field name -> the spec's column (contributions are by column)

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function fieldFor(f, withDefault) {
  const wrap = el("div");
  const id = "f-" + f.name;
  wrap.append(el("label", { for: id }, f.label));
  let input;
  if (f.levels) {
    input = el("select", { id, name: f.name, "aria-describedby": id + "-err" });
    input.append(el("option", { value: "" }, withDefault ? "" : "(not given)"));
    for (const lvl of f.levels) {
      const text = lvl.label === lvl.value ? lvl.value : `${lvl.label} (${lvl.value})`;
      input.append(el("option", { value: lvl.value }, text));
    }
  } else {
    input = el("input", { id, name: f.name, "aria-describedby": id + "-err" });
    if (f.kind === "date") input.type = "date";
    else if (f.kind !== "nominal") {
      input.type = "number"; input.step = "any";
      const rule = f.range && f.range.hard !== false ? f.range : null;  // soft: priced as sent
      if (rule && rule.min !== null && rule.min !== undefined) input.min = rule.min;
      if (rule && rule.max !== null && rule.max !== undefined) input.max = rule.max;
    }
  }
  input.dataset.kind = f.kind;
  if (withDefault && f.typical !== null && f.typical !== undefined) {
    input.value = typeof f.typical === "number" ? Math.round(f.typical) : f.typical;
  }
  input.title = f.column;
  wrap.append(input, el("p", { id: id + "-err", class: "field-error" }));
  return wrap;
}

function collect() {
  const body = {};
  for (const input of document.querySelectorAll("#house-form input, #house-form select")) {
    const v = input.value.trim();
    if (v === "") continue;
    const number = input.type === "number" || input.dataset.kind === "location";
    body[input.name] = number && v !== "" && !isNaN(Number(v)) ? Number(v) : v;
  }
  return body;
}

function clearErrors() {
  document.getElementById("form-error").textContent = "";
  for (const p of document.querySelectorAll(".field-error")) p.textContent = "";
  for (const i of document.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

function showErrors(detail) {
  const items = Array.isArray(detail) ? detail : [{ field: "body", message: String(detail) }];
  let first = null;
  for (const d of items) {
    const input = document.getElementById("f-" + d.field);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      document.getElementById("f-" + d.field + "-err").textContent = `${d.message} (${d.rule})`;
      if (input.closest("details")) input.closest("details").open = true;
      first = first || input;
    } else {
      document.getElementById("form-error").textContent += `${d.field}: ${d.message} `;
    }
  }
  if (first) first.focus();
}

function bars(container, items, key, label) {
  container.replaceChildren();
  const max = Math.max(...items.map((c) => Math.abs(c[key])), 1e-9);
  for (const c of items) {
    const row = el("div", { class: "bar-row" });
    const track = el("div", { class: "bar-track" });
    const v = c[key];
    const bar = el("div", { class: "bar " + (v >= 0 ? "up" : "down") });
    const w = (Math.abs(v) / max) * 50;
    bar.style.width = w + "%";
    bar.style.left = v >= 0 ? "50%" : 50 - w + "%";
    track.append(bar);
    row.append(el("span", {}, labels[c.feature] || c.feature), track, el("span", {}, label(c)));
    container.append(row);
  }
}

async function submit(ev) {
  ev.preventDefault();
  clearErrors();
  const btn = document.getElementById("submit");
  btn.disabled = true;
  try {
    const r = await fetch("/v1/explain?top=100", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(collect()),
    });
    const data = await r.json();
    if (!r.ok) { showErrors(data.detail); return; }
    document.getElementById("result").hidden = false;
    document.getElementById("price").textContent = fmt(data.price);
    document.getElementById("range").textContent = `${fmt(data.price_low)} – ${fmt(data.price_high)}`;
    document.getElementById("model-version").textContent = `${data.model.name} v${data.model.version}`;
    document.getElementById("base-price").textContent = fmt(data.base_price);
    document.getElementById("warnings").textContent = (data.warnings || []).join(" ");
    explainGroups(data);
  } catch (e) {
    document.getElementById("form-error").textContent = "The service did not answer: " + e;
  } finally {
    btn.disabled = false;
  }
}

function explainGroups(data) {
  // "What you told us" apart from "assumed typical": the imputed features, one joint line
  const imputedCols = new Set(data.imputed.map((n) => columns[n] || n));
  const given = [], assumed = [];
  for (const c of data.contributions) (imputedCols.has(c.feature) ? assumed : given).push(c);
  const label = (c) => signed(c.dollar_effect);
  bars(document.getElementById("chart"), given.slice(0, 12), "dollar_effect", label);
  const joint = assumed.reduce((s, c) => s + c.dollar_effect, 0);
  const box = document.getElementById("assumed");
  box.hidden = assumed.length === 0;
  document.getElementById("assumed-summary").textContent =
    `Assumed typical: ${assumed.length} features you did not give, together ${signed(joint)}`;
  bars(document.getElementById("assumed-chart"), assumed, "dollar_effect", label);
}

async function loadCard() {
  const r = await fetch("/v1/model");
  if (!r.ok) { document.getElementById("card-title").textContent = "No model loaded yet"; return; }
  const m = await r.json();
  fields = m.fields || [];
  labels = {};
  for (const f of fields) { labels[f.column] = f.label; columns[f.name] = f.column; }
  for (const e of (m.spec && m.spec.engineered) || []) labels[e.name] = e.label || e.name;
  labels.location = "Location (nearby sales)";
  if (m.location && m.location.kind === "block") labels[m.location.column] = "Location (parcel block)";
  document.getElementById("card-title").textContent = `${m.name} v${m.version} (${m.strategy})`;
  const meta = document.getElementById("card-meta");
  meta.replaceChildren();
  const loc = !m.location ? "none" : m.location.kind === "block"
    ? `${m.location.column} // ${m.location.divisor} (${m.location.blocks} blocks)`
    : `${m.location.neighbours} nearest of ${m.location.sales} sales`;
  for (const [k, v] of [["alias", m.alias], ["trained at", m.trained_at],
                        ["data fingerprint", m.data_fingerprint], ["location effect", loc],
                        ["loaded at", m.loaded_at]]) {
    const tr = el("tr"); tr.append(el("th", {}, k), el("td", {}, v || "–")); meta.append(tr);
  }
  const metrics = document.getElementById("card-metrics");
  metrics.replaceChildren();
  for (const [k, v] of Object.entries(m.metrics)) {
    if (SKIP.has(k)) continue;
    const [label, format, meaning] = METRICS[k] || [k.replaceAll("_", " "), dec(4), ""];
    const tr = el("tr", { "data-metric": k });
    tr.append(el("th", {}, label), el("td", {}, format(v)), el("td", { class: "hint" }, meaning));
    metrics.append(tr);
  }
  bars(document.getElementById("importance"), m.importance.slice(0, 20), "pct_effect",
       (c) => c.pct_effect.toFixed(1) + "%");
}

function tabs() {
  const tabsEls = [...document.querySelectorAll("[role=tab]")];
  const select = (t) => {
    for (const o of tabsEls) {
      const on = o === t;
      o.setAttribute("aria-selected", on); o.tabIndex = on ? 0 : -1;
      document.getElementById(o.getAttribute("aria-controls")).hidden = !on;
    }
    t.focus();
  };
  tabsEls.forEach((t, i) => {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight") select(tabsEls[(i + 1) % tabsEls.length]);
      if (e.key === "ArrowLeft") select(tabsEls[(i - 1 + tabsEls.length) % tabsEls.length]);
    });
  });
}

async function init() {
  tabs();
  await loadCard();
  const keyBox = document.getElementById("key-fields");
  const more = document.getElementById("more-fields");
  for (const f of fields) {
    if (f.key) keyBox.append(fieldFor(f, f.kind !== "location"));
    else more.append(fieldFor(f, false));
  }
  document.getElementById("house-form").addEventListener("submit", submit);
  document.body.dataset.ready = "true";
}
init();
