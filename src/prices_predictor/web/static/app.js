"use strict";
// The form, the labels and the levels all come from the served model's spec (GET /v1/model):
// this page knows no data set.
const fmt = (v) => "$" + Math.round(v).toLocaleString("en-US");
let fields = [];
let labels = {};

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
      if (f.range && f.range.min !== null && f.range.min !== undefined) input.min = f.range.min;
      if (f.range && f.range.max !== null && f.range.max !== undefined) input.max = f.range.max;
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
    const r = await fetch("/v1/explain?top=12", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(collect()),
    });
    const data = await r.json();
    if (!r.ok) { showErrors(data.detail); return; }
    document.getElementById("result").hidden = false;
    document.getElementById("price").textContent = fmt(data.price);
    document.getElementById("range").textContent = `${fmt(data.price_low)} – ${fmt(data.price_high)}`;
    document.getElementById("model-version").textContent = `${data.model.name} v${data.model.version}`;
    document.getElementById("base-price").textContent = fmt(data.base_price);
    const notes = data.imputed.length
      ? [`${data.imputed.length} features not given were imputed by the model.`] : [];
    document.getElementById("warnings").textContent = notes.concat(data.warnings || []).join(" ");
    bars(document.getElementById("chart"), data.contributions, "dollar_effect",
         (c) => (c.dollar_effect >= 0 ? "+" : "−") + fmt(Math.abs(c.dollar_effect)).slice(0));
  } catch (e) {
    document.getElementById("form-error").textContent = "The service did not answer: " + e;
  } finally {
    btn.disabled = false;
  }
}

async function loadCard() {
  const r = await fetch("/v1/model");
  if (!r.ok) { document.getElementById("card-title").textContent = "No model loaded yet"; return; }
  const m = await r.json();
  fields = m.fields || [];
  labels = {};
  for (const f of fields) labels[f.column] = f.label;
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
    const tr = el("tr"); tr.append(el("th", {}, k), el("td", {}, Number(v).toFixed(4))); metrics.append(tr);
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
