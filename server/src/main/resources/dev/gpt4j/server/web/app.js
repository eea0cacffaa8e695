// The gpt4j page. Every value from the model or a database goes into the page as text (textContent, never
// innerHTML): generated SQL and database rows are untrusted. URLs are relative, so the page works wherever the
// service is mounted (/, /sql/, ...).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { databases: [], current: null, token: sessionStorage.getItem("gpt4j-token") || "" };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function headers(json) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  return h;
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: headers(options.body !== undefined) });
  if (res.status === 401) { $("auth").hidden = false; throw new Error("this server needs an access token"); }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new Error((body && body.error) || ("HTTP " + res.status));
  return body;
}

// ---------------------------------------------------------------------------------------- databases and schema

async function loadDatabases() {
  const health = await api("api/health");
  const { databases } = await api("api/databases");
  state.databases = databases;
  const select = $("database");
  select.replaceChildren();
  for (const db of databases) select.append(new Option(db.name, db.name));
  $("status").textContent = "model " + health.model + " · " + databases.length + (databases.length === 1 ? " database" : " databases");
  selectDatabase(databases[0] && databases[0].name);
}

function selectDatabase(name) {
  state.current = state.databases.find((d) => d.name === name) || null;
  const box = $("schema");
  box.replaceChildren();
  if (!state.current) return;
  if (state.current.adapter) box.append(el("div", "adapter: " + state.current.adapter, "muted"));
  for (const t of state.current.tables) {
    const div = el("div", null, "table");
    div.append(el("div", t.name, "tname"));
    const ul = el("ul");
    for (const c of t.columns) {
      const li = el("li", c.name);
      if (c.type) li.append(el("span", c.type.toLowerCase(), "ctype"));
      ul.append(li);
    }
    div.append(ul);
    box.append(div);
  }
  loadHistory();
}

// ---------------------------------------------------------------------------------------- asking

let current = null; // the answer on screen: {id, database, sql}

function resetAnswer() {
  $("answer").hidden = false;
  $("sql").textContent = "";
  $("badges").replaceChildren();
  for (const id of ["refusal", "error", "result", "feedback", "correction", "corrected-result", "correction-error"]) $(id).hidden = true;
  $("timings").textContent = "";
  $("feedback-done").textContent = "";
  $("feedback-yes").classList.remove("chosen");
  $("feedback-no").classList.remove("chosen");
  current = null;
}

async function ask(event) {
  if (event) event.preventDefault();
  const question = $("question").value.trim();
  if (!question || !state.current) return;
  resetAnswer();
  const button = $("ask");
  button.disabled = true;
  const sql = $("sql");
  sql.classList.add("streaming");
  const params = new URLSearchParams({ database: state.current.name, question, execute: String($("execute").checked) });
  try {
    const res = await fetch("api/ask/stream?" + params, { headers: headers(false) });
    if (res.status === 401) { $("auth").hidden = false; throw new Error("this server needs an access token"); }
    if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
      let body = null;
      try { body = await res.json(); } catch (e) { /* not JSON */ }
      throw new Error((body && body.error) || ("HTTP " + res.status));
    }
    await readEvents(res, (name, data) => {
      if (name === "token") sql.textContent += data.text;
      else if (name === "answer") showAnswer(data);
      else if (name === "error") throw new Error(data.error);
    });
  } catch (e) {
    showError(e.message);
  } finally {
    sql.classList.remove("streaming");
    button.disabled = false;
  }
}

// Server-sent events from a fetch body: "event: NAME\ndata: JSON\n\n" blocks.
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

function badge(text, cls) { $("badges").append(el("span", text, "badge " + (cls || ""))); }

function showAnswer(a) {
  current = { id: a.id, database: a.database, sql: a.sql };
  $("sql").textContent = a.sql || "(no SQL)";
  badge(a.parses ? "parses" : "does not parse", a.parses ? "ok" : "bad");
  badge(a.safe ? "safe" : "refused", a.safe ? "ok" : "bad");
  if (a.adapter) badge("adapter " + a.adapter);
  if (!a.safe) { $("refusal").hidden = false; $("refusal").textContent = "Not run: " + a.refusal; }
  if (a.error) { $("error").hidden = false; $("error").textContent = "The database said: " + a.error; }
  const t = a.timings;
  $("timings").textContent = "#" + a.id + " · prefill " + t.prefill_ms + " ms · decode " + t.decode_ms + " ms"
    + (a.rows ? " · query " + t.execute_ms + " ms" : "") + " · total " + t.total_ms + " ms";
  if (a.rows) showRows(a.rows, "rows", "result", "result-count");
  $("feedback").hidden = false;
  $("corrected-sql").value = a.sql || "";
  loadHistory();
}

function showRows(result, tableId, boxId, countId) {
  const table = $(tableId);
  const head = el("tr");
  for (const c of result.columns) head.append(el("th", c));
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of result.rows) {
    const tr = el("tr");
    for (const v of row) {
      if (v === null) tr.append(el("td", "NULL", "null"));
      else tr.append(el("td", v, typeof v === "number" ? "num" : ""));
    }
    body.append(tr);
  }
  const n = result.rows.length;
  $(countId).textContent = n + (n === 1 ? " row" : " rows") + (result.truncated ? " (cut at the limit)" : "");
  $(boxId).hidden = false;
}

function showError(message) {
  $("answer").hidden = false;
  $("error").hidden = false;
  $("error").textContent = message;
}

// ---------------------------------------------------------------------------------------- feedback

async function sendFeedback(correct, correctedSql) {
  const body = { id: current.id, correct };
  if (correctedSql !== undefined) body.corrected_sql = correctedSql;
  return api("api/feedback", { method: "POST", body: JSON.stringify(body) });
}

async function feedbackYes() {
  if (!current) return;
  try {
    await sendFeedback(true);
    $("feedback-yes").classList.add("chosen");
    $("feedback-no").classList.remove("chosen");
    $("correction").hidden = true;
    $("feedback-done").textContent = "Thanks: noted as correct.";
    loadHistory();
  } catch (e) {
    $("feedback-done").textContent = e.message;
  }
}

async function feedbackNo() {
  if (!current) return;
  try {
    await sendFeedback(false);
    $("feedback-no").classList.add("chosen");
    $("feedback-yes").classList.remove("chosen");
    $("feedback-done").textContent = "Noted as wrong. You can correct it below.";
    $("correction").hidden = false;
    $("corrected-sql").focus();
    loadHistory();
  } catch (e) {
    $("feedback-done").textContent = e.message;
  }
}

async function saveCorrection() {
  if (!current) return;
  $("correction-error").hidden = true;
  try {
    const r = await sendFeedback(false, $("corrected-sql").value);
    $("feedback-done").textContent = "Correction saved.";
    if (r.rows) {
      showRows(r.rows, "corrected-rows", "corrected-result", "corrected-count");
      $("corrected-result").scrollIntoView({ block: "nearest" });
    }
    loadHistory();
  } catch (e) {
    $("correction-error").hidden = false;
    $("correction-error").textContent = e.message;
  }
}

// ---------------------------------------------------------------------------------------- history

async function loadHistory() {
  if (!state.current) return;
  let items;
  try {
    ({ items } = await api("api/history?" + new URLSearchParams({ database: state.current.name, limit: "30" })));
  } catch (e) {
    return;
  }
  const list = $("history");
  list.replaceChildren();
  if (items.length === 0) list.append(el("li", "No questions yet.", "muted"));
  for (const h of items) {
    const li = el("li");
    li.dataset.id = h.id;
    const q = el("div", h.question, "hq");
    if (h.correct === true) q.append(el("span", "✓ correct", "mark ok"));
    else if (h.correct === false) q.append(el("span", h.corrected_sql ? "✎ corrected" : "✗ wrong", "mark bad"));
    li.append(q);
    li.append(el("div", h.corrected_sql || h.sql, "hs"));
    li.title = h.corrected_sql ? "generated: " + h.sql + "\ncorrected: " + h.corrected_sql : h.sql;
    li.addEventListener("click", () => { $("question").value = h.question; $("question").focus(); });
    list.append(li);
  }
}

// ---------------------------------------------------------------------------------------- wiring

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", ask);
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) ask(e);
  });
  $("database").addEventListener("change", (e) => selectDatabase(e.target.value));
  $("feedback-yes").addEventListener("click", feedbackYes);
  $("feedback-no").addEventListener("click", feedbackNo);
  $("save-correction").addEventListener("click", saveCorrection);
  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem("gpt4j-token", state.token);
    $("auth").hidden = true;
    loadDatabases().catch((err) => { $("status").textContent = err.message; });
  });
  loadDatabases().catch((err) => { $("status").textContent = err.message; });
});
