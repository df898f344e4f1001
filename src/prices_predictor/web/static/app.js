"use strict";
// Key features people know, with sensible defaults (a typical Ames house).
const KEY = [
  ["gr_liv_area", "Living area (sq ft)", 1500], ["overall_qual", "Overall quality (1-10)", 6],
  ["neighborhood", "Neighborhood", "NAmes"], ["year_built", "Year built", 1975],
  ["total_bsmt_sf", "Basement area (sq ft)", 1000], ["garage_cars", "Garage (cars)", 2],
  ["full_bath", "Full bathrooms", 2], ["half_bath", "Half bathrooms", 0],
  ["lot_area", "Lot area (sq ft)", 9500], ["overall_cond", "Overall condition (1-10)", 5],
  ["year_remod_add", "Year remodelled", 1995], ["kitchen_qual", "Kitchen quality", "TA"],
  ["pid", "Parcel id (PID), for the location", null],
];
// Engineered features, in words.
const LABELS = {
  total_sf: "Total area (basement + living)", qual_x_area: "Quality × living area",
  house_age: "Age at sale", remod_age: "Years since remodel", total_bath: "Bathrooms (total)",
  porch_sf: "Porch and deck area", has_second_floor: "Has a 2nd floor", has_garage: "Has a garage",
  has_basement: "Has a basement", has_fireplace: "Has a fireplace", has_pool: "Has a pool",
  remodeled: "Remodelled", PID: "Location (parcel block)",
};
const fmt = (v) => "$" + Math.round(v).toLocaleString("en-US");
let schemaProps = {};
let categories = {};

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function fieldFor(name, label, value) {
  const prop = schemaProps[name] || {};
  const wrap = el("div");
  const id = "f-" + name;
  wrap.append(el("label", { for: id }, label));
  const types = (prop.anyOf || [prop]).map((t) => t.type);
  const input = el("input", { id, name, "aria-describedby": id + "-err" });
  const numeric = types.includes("number") || types.includes("integer");
  const num = (prop.anyOf || [prop]).find((t) => t.type === "number") || {};
  if (numeric && !types.includes("string")) {
    input.type = "number"; input.step = "any";
    if (num.minimum !== undefined) input.min = num.minimum;
    if (num.maximum !== undefined) input.max = num.maximum;
  }
  const original = prop.title || name;
  if (categories[original] && categories[original].length) {
    const list = el("datalist", { id: id + "-list" });
    for (const lvl of categories[original]) list.append(el("option", { value: lvl }));
    wrap.append(list); input.setAttribute("list", id + "-list");
  }
  if (prop.description) input.title = prop.description;
  if (value !== undefined && value !== null) input.value = value;
  wrap.append(input, el("p", { id: id + "-err", class: "field-error" }));
  return wrap;
}

function collect() {
  const body = {};
  for (const input of document.querySelectorAll("#house-form input")) {
    const v = input.value.trim();
    if (v === "") continue;
    body[input.name] = input.type === "number" ? Number(v) : v;
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
    row.append(el("span", {}, LABELS[c.feature] || c.feature), track, el("span", {}, label(c)));
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
  categories = m.categories || {};
  document.getElementById("card-title").textContent = `${m.name} v${m.version} (${m.strategy})`;
  const meta = document.getElementById("card-meta");
  meta.replaceChildren();
  const loc = m.location
    ? `${m.location.column} // ${m.location.divisor} (${m.location.blocks} blocks)` : "none";
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
  const spec = await (await fetch("/openapi.json")).json();
  schemaProps = spec.components.schemas.HouseFeatures.properties;
  await loadCard();
  const keyBox = document.getElementById("key-fields");
  for (const [name, label, def] of KEY) keyBox.append(fieldFor(name, label, def));
  const keyNames = new Set(KEY.map((k) => k[0]));
  const more = document.getElementById("more-fields");
  for (const name of Object.keys(schemaProps)) {
    if (!keyNames.has(name)) more.append(fieldFor(name, schemaProps[name].title || name));
  }
  document.getElementById("house-form").addEventListener("submit", submit);
  document.body.dataset.ready = "true";
}
init();
