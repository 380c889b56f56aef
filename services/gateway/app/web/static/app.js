// Shared helpers of the dashboard pages: API calls with the session cookie + CSRF header, DOM helpers.
"use strict";
const HP = (() => {
  const API = "/api/v1";
  const body = document.body;
  const role = body.dataset.role || null;
  const org = body.dataset.org || null;

  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, () => ((Math.random() * 16) | 0).toString(16));
  }

  // The session cookie authenticates; a state-changing call adds the CSRF token (double submit).
  async function api(method, path, payload, extraHeaders) {
    const headers = { Accept: "application/json, application/problem+json, application/geo+json", ...(extraHeaders || {}) };
    if (method !== "GET") {
      headers["X-CSRF-Token"] = cookie("hp_csrf");
      headers["Idempotency-Key"] = uuid();
    }
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(API + path, { method, headers, credentials: "same-origin", body: payload === undefined ? undefined : JSON.stringify(payload) });
    if (res.status === 401) { window.location.assign("/aanmelden"); throw new ApiError(401, null); }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // Every page of a cursor-paginated list.
  async function all(path, max = 5000) {
    const out = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api("GET", `${path}${sep}limit=100${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
      out.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && out.length < max);
    return out;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  const nf = new Intl.NumberFormat("nl-NL");
  const num = (n) => (n === null || n === undefined ? "–" : nf.format(n));
  const eur = (n) => (n === null || n === undefined ? "–" : new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR", maximumFractionDigits: 0 }).format(n));
  const date = (s) => (s ? new Date(s).toLocaleDateString("nl-NL") : "–");

  // columns: [{label, value: row => node|text, num: bool}]
  function table(caption, columns, rows, rowAttrs) {
    const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "hp-num" : null }, c.label)));
    const bodyRows = rows.map((r) => el("tr", rowAttrs ? rowAttrs(r) : {}, columns.map((c) => el("td", { class: [c.num ? "hp-num" : "", c.cls ? c.cls(r) : ""].join(" ").trim() || null }, c.value(r)))));
    return el("div", { class: "hp-table-wrap" }, el("table", { class: "utrecht-table" }, el("caption", { class: "utrecht-table__caption" }, caption), el("thead", {}, head), el("tbody", {}, bodyRows)));
  }

  function alert(kind, text) {
    return el("div", { class: `hp-alert hp-alert--${kind}`, role: kind === "fout" ? "alert" : "status" }, el("p", { class: "utrecht-paragraph" }, text));
  }

  function show(container, ...nodes) { container.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false)); }

  // API validation errors (invalidParams) next to their fields: `f-<last name segment>`.
  function fieldErrors(form, problem) {
    clearErrors(form);
    const unplaced = [];
    for (const p of problem.invalidParams || []) {
      const segments = p.name.split(".").filter((s) => !/^\d+$/.test(s));
      let input = null;
      for (let i = segments.length - 1; i >= 0 && !input; i--) input = form.querySelector(`#f-${CSS.escape(segments[i])}`);
      if (!input && segments[0] === "location") input = form.querySelector("#f-lat");
      if (!input) { unplaced.push(`${p.name}: ${p.reason}`); continue; }
      const id = `${input.id}-fout`;
      const msg = document.getElementById(id) || el("p", { class: "hp-error utrecht-form-field-error-message", id });
      msg.textContent = (msg.textContent ? msg.textContent + " " : "") + p.reason;
      input.after(msg);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
    }
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    return unplaced;
  }

  function clearErrors(form) {
    form.querySelectorAll(".hp-error").forEach((n) => n.remove());
    form.querySelectorAll('[aria-invalid="true"]').forEach((n) => { n.removeAttribute("aria-invalid"); n.removeAttribute("aria-describedby"); });
  }

  const STATUS_NL = { pending: "In afwachting", accepted: "Geaccepteerd", reserved: "Gereserveerd", scheduled: "Ingepland", declined: "Afgewezen", expired: "Verlopen", withdrawn: "Ingetrokken",
    active: "Actief", expiring: "Loopt af", ended: "Beëindigd", published: "Gepubliceerd", draft: "Concept" };
  const KIND_NL = { garantiekavel: "Garantiekavel", municipal: "Gemeentelijk", private: "Particulier" };

  return { api, all, el, num, eur, date, table, alert, show, fieldErrors, clearErrors, role, org, STATUS_NL, KIND_NL, ApiError, params: new URLSearchParams(location.search) };
})();
