/*
 * <copilot-panel>: the agent-assist side panel as a web component. Plain JavaScript, no build step,
 * no requests except to the copilot API.
 *
 *   <script src="/widget.js"></script>
 *   <copilot-panel session="SESSION_ID" token="API_KEY" base="https://copilot.example"></copilot-panel>
 *
 * `base` is optional (default: the page's own origin). The panel loads
 * GET {base}/v1/sessions/{session}/panel, then follows {base}/v1/sessions/{session}/stream (SSE).
 *
 * For the host page and tests:
 *   element.cards          the current cards, keyed by card id (a fresh plain object each read)
 *   element.version        the panel version last applied (also the host's data-version attribute)
 *   element.refresh()      reload the whole panel and reopen the stream
 *   element.clearPreview(field)   drop a streamed "writing..." preview (summary|reply_draft|answer)
 *   events (on the host):  copilot-update {version, source, event_id, latency_ms, cards, removed}
 *                          copilot-token  (the token delta as received)
 *                          copilot-insert {text} (bubbles, composed): "Insert" on the reply draft
 *                          copilot-error  {message, status}
 */
(() => {
  "use strict";
  if (!window.customElements || window.customElements.get("copilot-panel")) return;

  // Cards in this order, top to bottom; several alert or action cards keep their arrival order.
  const ORDER = [
    "alert",
    "customer",
    "next_best_action",
    "action",
    "mood",
    "summary",
    "reply_draft",
    "offer",
    "knowledge",
    "intent",
    "journey",
  ];
  const TITLES = {
    alert: "Alert",
    customer: "Customer",
    next_best_action: "Next best action",
    action: "Proposed action",
    mood: "Mood",
    summary: "Summary",
    reply_draft: "Reply draft",
    offer: "Offer",
    knowledge: "Knowledge",
    intent: "Intent",
    journey: "Journey",
  };
  const ALERT_TITLES = { repeat: "already provided", identity: "identity", escalation: "escalation" };
  const BACKOFF_MS = [1000, 2000, 5000];
  const PREVIEW_STALE_MS = 30000; // a "writing..." preview nobody replaced goes away after this
  const ERROR_SHOWN_MS = 15000;
  const PREVIEW_CARD = { summary: "summary", reply_draft: "reply_draft" };

  /* ---------------------------------------------------------------- small helpers */

  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const obj = (v) => (isObj(v) ? v : {});
  const arr = (v) => (Array.isArray(v) ? v : []);
  const has = (v) => v !== null && v !== undefined && v !== "";
  const str = (v) => {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    try {
      return JSON.stringify(v);
    } catch (_) {
      return String(v);
    }
  };
  const num = (v) => {
    const n = typeof v === "number" ? v : typeof v === "string" && v.trim() ? Number(v) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const humanize = (s) => str(s).replace(/[_-]+/g, " ").trim();
  const sentence = (s) => {
    const words = humanize(s);
    return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
  };
  const pct = (v) => {
    const n = num(v);
    return n === null ? "" : `${Math.round((n <= 1 ? n * 100 : n))}%`;
  };
  const moneyFmt =
    typeof Intl !== "undefined"
      ? new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" })
      : null;
  const money = (v) => {
    const n = num(v);
    if (n === null) return str(v);
    return moneyFmt ? moneyFmt.format(n) : `$${n.toFixed(2)}`;
  };
  const when = (v) => {
    const s = str(v);
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(s);
    return m ? `${m[1]} ${m[2]}` : s;
  };
  const lastFour = (s) => {
    const digits = str(s).replace(/\D/g, "");
    return digits.length >= 4 ? `••••${digits.slice(-4)}` : str(s);
  };
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  function uuid() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    const b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** An element: h("p", {class: "x", onclick: fn}, "text", child, [more]). No HTML parsing. */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    add(el, kids);
    return el;
  }
  function add(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false || k === "") continue;
      el.append(k instanceof Node ? k : String(k));
    }
    return el;
  }
  const muted = (text) => h("p", { class: "muted" }, text);
  const chip = (text, kind, title) => h("span", { class: `chip ${kind || ""}`.trim(), title }, text);
  const srOnly = (text) => h("span", { class: "sr-only" }, text);

  /** Label/value rows; rows with an empty value are left out. */
  function facts(rows) {
    const kept = rows.filter(([, v]) => has(v) && !(Array.isArray(v) && !v.length));
    if (!kept.length) return null;
    return h(
      "dl",
      { class: "facts" },
      kept.map(([k, v]) => [h("dt", null, k), h("dd", null, Array.isArray(v) ? v.join(", ") : v)])
    );
  }
  function list(title, items, cls) {
    const shown = arr(items).filter(has);
    if (!shown.length) return null;
    return h(
      "div",
      { class: `list ${cls || ""}`.trim() },
      h("h4", null, title),
      h("ul", { "aria-label": title }, shown.map((i) => h("li", null, str(i))))
    );
  }
  function llmNote(d) {
    const llm = obj(d.llm);
    if (!has(llm.status)) return null;
    const bad = llm.status !== "ok" && llm.status !== "idle";
    return h(
      "p",
      { class: `note ${bad ? "warn-text" : ""}`.trim() },
      `model: ${str(llm.status)}${has(llm.reason) ? ` – ${str(llm.reason)}` : ""}`
    );
  }
  function safeHref(url, base) {
    if (!has(url)) return null;
    try {
      const u = new URL(str(url), base || window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }
  function sparkline(trend) {
    const values = arr(trend)
      .map((v) => (isObj(v) ? num(v.score ?? v.polarity ?? v.value ?? v.mood) : num(v)))
      .filter((v) => v !== null);
    if (!values.length) return null;
    const lo = Math.min(-1, ...values);
    const hi = Math.max(1, ...values);
    const W = 200;
    const H = 40;
    const x = (i) => (values.length === 1 ? W / 2 : (i * W) / (values.length - 1));
    const y = (v) => 2 + ((hi - v) * (H - 4)) / (hi - lo || 1);
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "spark");
    svg.setAttribute("role", "img");
    svg.setAttribute(
      "aria-label",
      `Mood trend, oldest to newest: ${values.map((v) => v.toFixed(2)).join(", ")}`
    );
    const zero = document.createElementNS(NS, "line");
    for (const [k, v] of Object.entries({ x1: 0, x2: W, y1: y(0), y2: y(0), class: "zero" }))
      zero.setAttribute(k, String(v));
    svg.append(zero);
    const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    if (values.length === 1) pts.push(`${(W / 2 + 0.1).toFixed(1)},${y(values[0]).toFixed(1)}`);
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("class", values[values.length - 1] < -0.2 ? "line low" : "line");
    svg.append(line);
    return svg;
  }
  function typeOf(card) {
    if (card && has(card.type)) return str(card.type);
    const id = str(card && card.id);
    if (id.startsWith("alert:")) return "alert";
    if (id.startsWith("action:")) return "action";
    return id;
  }
  const rank = (type) => {
    const i = ORDER.indexOf(type);
    return i < 0 ? ORDER.length : i;
  };
  const isCleared = (card) => card.status === "empty" && isObj(card.data) && card.data.cleared === true;

  /* ---------------------------------------------------------------- styles */

  const CSS = `
:host { display: block; box-sizing: border-box; min-width: 0; max-width: 100%;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d2433; background: #f4f5f7; overflow-wrap: anywhere; }
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
.top { position: sticky; top: 0; z-index: 1; background: #f4f5f7; padding: 6px 8px;
  border-bottom: 1px solid #dde1e7; display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; }
.status { margin: 0; display: flex; align-items: center; gap: 6px; font-size: 12px; font-weight: 600; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: #9aa3af; flex: none; }
.status[data-state="live"] .dot { background: #1f8a4c; }
.status[data-state="connecting"] .dot, .status[data-state="reconnecting"] .dot { background: #c27c00; }
.status[data-state="error"] .dot { background: #c0262d; }
.meta { margin-left: auto; font-size: 11px; color: #5b6472; }
.error { display: flex; align-items: flex-start; gap: 8px; margin: 6px 8px 0; padding: 6px 8px;
  border-radius: 6px; background: #fdecec; color: #8f1c22; border: 1px solid #f3b9bc; }
.error[hidden] { display: none; }
.error p { margin: 0; flex: 1; min-width: 0; }
.cards { display: flex; flex-direction: column; gap: 8px; padding: 8px; }
.placeholder { padding: 12px 8px; color: #5b6472; }
section.card { background: #fff; border: 1px solid #dde1e7; border-left: 4px solid #c9d1dc;
  border-radius: 8px; padding: 8px 10px; min-width: 0; }
section.card.s-degraded { border-left-color: #c27c00; }
section.card.s-pending { border-left-color: #3b6fd8; }
section.card.s-empty { border-left-color: #e3e6eb; }
section.card.t-next_best_action { border-left-color: #1d4ed8; }
section.card.t-alert { background: #fff4e5; border-color: #f0b35b; border-left-color: #c27c00; }
section.card.t-alert.high { background: #fdecec; border-color: #f3b9bc; border-left-color: #c0262d; }
section.card.mood-alert { border-left-color: #c0262d; background: #fff7f7; }
section.card.t-action.proposed { border-left-color: #7c3aed; }
.head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; margin: 0 0 4px; }
h3 { margin: 0; font-size: 13px; font-weight: 700; text-transform: uppercase; letter-spacing: .03em;
  color: #3d4757; }
h4 { margin: 6px 0 2px; font-size: 12px; color: #3d4757; }
p { margin: 4px 0; }
ul, ol { margin: 2px 0; padding-left: 18px; }
li { margin: 1px 0; }
.muted, .note { color: #5b6472; }
.note { font-size: 11px; }
.warn-text { color: #8a5300; }
.big { font-size: 15px; font-weight: 700; }
.chip { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; line-height: 18px;
  background: #eef0f4; color: #3d4757; border: 1px solid #dde1e7; max-width: 100%; }
.chip.ok { background: #e7f5ec; color: #17683a; border-color: #b6e0c4; }
.chip.bad { background: #fdecec; color: #a1202a; border-color: #f3b9bc; }
.chip.warn { background: #fff4e5; color: #8a5300; border-color: #f0cf9b; }
.chip.info { background: #e8effc; color: #1e48a8; border-color: #bccff5; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; padding: 0; margin: 6px 0 0; }
.facts { display: grid; grid-template-columns: minmax(70px, max-content) minmax(0, 1fr); gap: 1px 8px;
  margin: 4px 0; }
.facts dt { color: #5b6472; }
.facts dd { margin: 0; min-width: 0; }
.box { border-radius: 6px; padding: 6px 8px; margin: 6px 0; background: #f6f7f9; }
.box.warn { background: #fff4e5; }
.box.bad { background: #fdecec; }
.acct { border-top: 1px solid #eef0f4; padding-top: 4px; margin-top: 6px; }
.timeline { list-style: none; padding: 0; margin: 4px 0; border-left: 2px solid #dde1e7; }
.timeline li { position: relative; padding: 0 0 6px 10px; }
.timeline li::before { content: ""; position: absolute; left: -5px; top: 6px; width: 8px; height: 8px;
  border-radius: 50%; background: #9aa3af; }
.timeline .when { font-size: 11px; color: #5b6472; }
.checklist { list-style: none; padding: 0; }
.checklist li { display: flex; gap: 6px; align-items: baseline; }
.checklist .mark { flex: none; width: 1.2em; text-align: center; }
.checklist .done { color: #5b6472; text-decoration: line-through; }
.checklist .next { font-weight: 700; }
.checklist .not_needed { color: #8a93a1; }
.say { margin: 4px 0; padding: 4px 8px; border-left: 3px solid #bccff5; background: #f3f6fd; }
blockquote { margin: 4px 0; padding: 2px 8px; border-left: 3px solid #dde1e7; color: #3d4757;
  font-style: italic; }
.spark { display: block; width: 100%; height: 48px; margin: 4px 0; }
.spark .zero { stroke: #c9d1dc; stroke-width: 1; stroke-dasharray: 4 3; vector-effect: non-scaling-stroke; }
.spark .line { fill: none; stroke: #1d4ed8; stroke-width: 2; vector-effect: non-scaling-stroke; }
.spark .line.low { stroke: #c0262d; }
.preview { margin: 6px 0; padding: 6px 8px; border: 1px dashed #9fb5e8; border-radius: 6px;
  background: #f6f9ff; white-space: pre-wrap; }
.preview .label { display: block; font-size: 11px; color: #1e48a8; font-weight: 600; }
.draft { white-space: pre-wrap; margin: 4px 0; padding: 6px 8px; background: #f6f7f9; border-radius: 6px; }
.hits { padding-left: 18px; }
.hits li { margin: 4px 0; }
.hits li.cited { background: #fffbe6; border-radius: 4px; }
.snippet { margin: 2px 0; color: #3d4757; font-size: 12px; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; align-items: center; }
button { font: inherit; font-size: 12px; min-height: 28px; padding: 3px 10px; border-radius: 6px;
  border: 1px solid #8a94a6; background: #fff; color: #1d2433; cursor: pointer; }
button:hover { background: #f0f2f5; }
button.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
button.primary:hover { background: #1a44bd; }
button.danger { border-color: #c0262d; color: #a1202a; }
button[disabled], button[aria-disabled="true"] { opacity: .55; cursor: default; }
button.link { border: 0; background: none; padding: 0 4px; min-height: 0; color: inherit; }
a { color: #1d4ed8; }
button:focus-visible, a:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 2px solid #1d4ed8; outline-offset: 2px; }
details { margin: 4px 0; }
summary { cursor: pointer; color: #1e48a8; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.alert-msg { font-weight: 700; margin: 2px 0; }
.verif { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 6px; margin: 6px 0; padding: 5px 8px;
  border-radius: 6px; border: 1px solid #dde1e7; background: #f6f7f9; color: #5b6472; }
.verif .badge { font-weight: 700; }
.verif.v-verified { background: #e7f5ec; border-color: #b6e0c4; color: #17683a; }
.verif.v-expired { background: #fff4e5; border-color: #f0cf9b; color: #8a5300; }
.verif.v-failed { background: #fdecec; border-color: #f3b9bc; color: #a1202a; }
.verif .src { font-size: 11px; color: #5b6472; }
.handoff { margin: 6px 0 2px; }
.provided { border: 1px solid #b6e0c4; background: #f3faf5; }
.provided h4 { margin-top: 0; color: #17683a; }
.provided .facts { margin-bottom: 0; }
.provided dt { max-width: 9em; }
.provided .src { color: #5b6472; font-size: 11px; }
.origin { margin: 2px 0 6px; }
.timeline li.session::before { background: #3b6fd8; }
.timeline li.current::before { background: #1f8a4c; }
.prov { font-size: 11px; color: #5b6472; }
.prov summary { color: #5b6472; }
code { font-size: 11px; background: #eef0f4; padding: 0 3px; border-radius: 3px; }
@media (prefers-reduced-motion: no-preference) { section.card { transition: border-color .2s; } }
`;

  /* ---------------------------------------------------------------- the element */

  class CopilotPanel extends HTMLElement {
    static get observedAttributes() {
      return ["session", "token", "base"];
    }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      this._cards = new Map(); // card id -> card
      this._sections = new Map(); // card id -> {section, title, chips, live, body}
      this._previews = new Map(); // field -> {eventId, text, at}
      this._done = new Map(); // card id -> {version, note}: feedback already given here
      this._busy = new Set(); // card ids with a request in flight
      this._version = 0;
      this._es = null;
      this._gen = 0; // bumped on every (re)start; stale callbacks compare and give up
      this._retry = 0;
      this._failedOpens = 0;
      this._timers = new Set();
      this._restartQueued = false;
      this._build();
    }

    /* ---- public surface */

    /** The current cards by id: a plain object (Object.keys, JSON) that also answers get/has/size. */
    get cards() {
      const out = {};
      for (const [id, card] of this._cards) out[id] = card;
      const entries = [...this._cards.entries()];
      Object.defineProperties(out, {
        get: { value: (id) => this._cards.get(id) },
        has: { value: (id) => this._cards.has(id) },
        size: { value: entries.length },
        [Symbol.iterator]: { value: () => entries[Symbol.iterator]() },
      });
      return out;
    }
    get version() {
      return this._version;
    }
    refresh() {
      this._start();
    }
    clearPreview(field) {
      if (this._previews.delete(field)) this._renderPreviewOwner(field);
    }

    connectedCallback() {
      this._queueStart();
    }
    disconnectedCallback() {
      this._stop();
    }
    attributeChangedCallback(_name, before, after) {
      if (before !== after && this.isConnected) this._queueStart();
    }
    /** Setting session and token one after the other (or on upgrade) starts once. */
    _queueStart() {
      if (this._restartQueued) return;
      this._restartQueued = true;
      queueMicrotask(() => {
        this._restartQueued = false;
        if (this.isConnected) this._start();
      });
    }

    /* ---- settings */

    get _session() {
      return (this.getAttribute("session") || "").trim();
    }
    get _token() {
      return (this.getAttribute("token") || "").trim();
    }
    get _base() {
      return (this.getAttribute("base") || "").trim().replace(/\/+$/, "");
    }
    _path(suffix) {
      return `/v1/sessions/${encodeURIComponent(this._session)}${suffix}`;
    }

    /* ---- skeleton */

    _build() {
      const style = h("style", null, CSS);
      this._state = h("span", { class: "state" }, "Not connected");
      this._statusEl = h(
        "p",
        { class: "status", role: "status", "aria-live": "polite", "data-state": "idle" },
        h("span", { class: "dot", "aria-hidden": "true" }),
        this._state
      );
      this._meta = h("span", { class: "meta" });
      this._errText = h("p", null);
      this._errEl = h(
        "div",
        { class: "error", role: "alert", hidden: true },
        this._errText,
        h("button", { type: "button", class: "link", "aria-label": "Dismiss error", onclick: () => this._hideError() }, "×")
      );
      this._answerEl = h("div", { class: "answer-preview" });
      this._list = h("div", { class: "cards" });
      this._placeholder = h("p", { class: "placeholder" }, "No session yet.");
      this._root.append(
        style,
        h("div", { class: "top" }, this._statusEl, this._meta),
        this._errEl,
        this._answerEl,
        this._list,
        this._placeholder
      );
    }

    _setStatus(state, text) {
      this._statusEl.setAttribute("data-state", state);
      if (this._state.textContent !== text) this._state.textContent = text;
      this.setAttribute("data-state", state);
    }

    _showError(message, status) {
      this._errText.textContent = message;
      this._errEl.hidden = false;
      clearTimeout(this._errTimer);
      this._errTimer = setTimeout(() => this._hideError(), ERROR_SHOWN_MS);
      this._emit("copilot-error", { message, status: status || null });
    }
    _hideError() {
      clearTimeout(this._errTimer);
      this._errEl.hidden = true;
      this._errText.textContent = "";
    }

    _emit(name, detail, outward) {
      this.dispatchEvent(
        new CustomEvent(name, { detail, bubbles: Boolean(outward), composed: Boolean(outward) })
      );
    }

    _later(fn, ms) {
      const t = setTimeout(() => {
        this._timers.delete(t);
        fn();
      }, ms);
      this._timers.add(t);
      return t;
    }

    /* ---- lifecycle */

    _stop() {
      this._gen += 1;
      if (this._es) {
        this._es.close();
        this._es = null;
      }
      for (const t of this._timers) clearTimeout(t);
      this._timers.clear();
    }

    async _start() {
      this._stop();
      const gen = this._gen;
      this._retry = 0;
      this._failedOpens = 0;
      this._clear();
      if (!this._session) {
        this._setStatus("idle", "No session");
        this._placeholder.textContent = "No session yet.";
        this._placeholder.hidden = false;
        return;
      }
      this._placeholder.textContent = "Loading the panel…";
      this._placeholder.hidden = false;
      this._setStatus("connecting", "Connecting…");
      try {
        await this._loadPanel(gen);
      } catch (err) {
        if (gen !== this._gen) return;
        this._placeholder.textContent = "The panel could not be loaded.";
        if (this._fatal(err)) return;
        this._setStatus("reconnecting", "Reconnecting…");
        this._later(() => this._start(), this._nextDelay());
        return;
      }
      if (gen !== this._gen) return;
      this._open(gen);
    }

    /** A 4xx other than timeouts and rate limits will not get better by retrying. */
    _fatal(err) {
      const s = err && err.status;
      this._showError(err && err.message ? err.message : "request failed", s);
      if (s && s >= 400 && s < 500 && s !== 408 && s !== 429) {
        this._setStatus("error", `Stopped: ${err.message}`);
        return true;
      }
      return false;
    }

    _nextDelay() {
      const ms = BACKOFF_MS[Math.min(this._retry, BACKOFF_MS.length - 1)];
      this._retry += 1;
      return ms;
    }

    _clear() {
      this._cards.clear();
      this._previews.clear();
      this._done.clear();
      this._busy.clear();
      for (const s of this._sections.values()) s.section.remove();
      this._sections.clear();
      this._answerEl.replaceChildren();
      this._version = 0;
      this.removeAttribute("data-version");
      this._meta.textContent = "";
    }

    async _loadPanel(gen) {
      const panel = await this._request("GET", this._path("/panel"));
      if (gen !== this._gen) return;
      const p = obj(panel);
      this._replaceAll(arr(p.cards), num(p.version) ?? 0, "snapshot", null, null);
    }

    _streamUrl(resume) {
      const q = new URLSearchParams();
      if (this._token) q.set("access_token", this._token);
      if (resume) q.set("last_event_id", String(this._version));
      const qs = q.toString();
      return `${this._base}${this._path("/stream")}${qs ? `?${qs}` : ""}`;
    }

    _open(gen) {
      if (gen !== this._gen) return;
      let es;
      try {
        // The version just loaded (or last applied) is where the stream picks up.
        es = new EventSource(this._streamUrl(true));
      } catch (err) {
        this._fatal(err);
        return;
      }
      this._es = es;
      let opened = false;
      es.addEventListener("open", () => {
        if (gen !== this._gen) return;
        opened = true;
        this._retry = 0;
        this._failedOpens = 0;
        this._setStatus("live", "Live");
      });
      es.addEventListener("panel_update", (ev) => gen === this._gen && this._onUpdate(ev.data, ev.lastEventId));
      es.addEventListener("token", (ev) => gen === this._gen && this._onToken(ev.data));
      // Items sent without an event name: dispatch on their "type".
      es.addEventListener("message", (ev) => {
        if (gen !== this._gen) return;
        const msg = this._parse(ev.data);
        if (msg && msg.type === "panel_update") this._onUpdate(msg, ev.lastEventId);
        else if (msg && msg.type === "token") this._onToken(msg);
      });
      es.addEventListener("error", () => {
        if (gen !== this._gen) return;
        if (es.readyState === 2) {
          // Closed for good (an HTTP error or a bad response): reopen ourselves, with backoff.
          es.close();
          if (this._es === es) this._es = null;
          if (!opened) this._failedOpens += 1;
          opened = false;
          const ms = this._nextDelay();
          this._setStatus("reconnecting", `Reconnecting in ${Math.round(ms / 1000)} s…`);
          this._later(() => this._reopen(gen), ms);
        } else {
          // The browser reconnects by itself and sends Last-Event-ID.
          opened = false;
          this._setStatus("reconnecting", "Reconnecting…");
        }
      });
    }

    async _reopen(gen) {
      if (gen !== this._gen) return;
      if (this._failedOpens >= 2) {
        // The stream keeps refusing: ask the panel endpoint why (and catch up while at it).
        try {
          await this._loadPanel(gen);
        } catch (err) {
          if (gen !== this._gen) return;
          if (this._fatal(err)) return;
          this._later(() => this._reopen(gen), this._nextDelay());
          return;
        }
      }
      this._open(gen);
    }

    /* ---- incoming */

    _parse(data) {
      if (isObj(data)) return data;
      try {
        const v = JSON.parse(data);
        return isObj(v) ? v : null;
      } catch (_) {
        return null;
      }
    }

    _onUpdate(data, lastEventId) {
      const msg = this._parse(data);
      if (!msg) return;
      const version = num(msg.version) ?? num(lastEventId);
      const cards = arr(msg.cards).filter((c) => isObj(c) && has(c.id));
      if (msg.event_id === "snapshot") {
        // The whole panel as it is now (a first connection, or a gap the server could not fill).
        if (version !== null && version < this._version) return;
        this._replaceAll(cards, version ?? this._version, "snapshot", msg.event_id, msg.latency_ms);
        return;
      }
      if (version !== null && version <= this._version) return; // seen already
      const gap = version !== null && this._version > 0 && version > this._version + 1;
      const changed = [];
      const removed = [];
      for (const card of cards) {
        if (isCleared(card)) {
          if (this._cards.delete(card.id)) removed.push(card.id);
          this._done.delete(card.id);
        } else {
          this._cards.set(card.id, card);
          changed.push(card.id);
        }
      }
      // A preview ends when its card lands, or when the model's update for that event arrives.
      for (const [field, p] of [...this._previews]) {
        const owner = PREVIEW_CARD[field];
        const landed = owner && cards.some((c) => c.id === owner);
        // The fast path of a newer utterance does not replace what the model is still writing.
        const newerFast = msg.source === "fast" && has(msg.event_id) && msg.event_id !== p.eventId;
        if ((landed && !newerFast) || (msg.source === "llm" && p.eventId === msg.event_id)) {
          this._previews.delete(field);
          if (owner && !changed.includes(owner) && !removed.includes(owner)) changed.push(owner);
          if (!owner) this._renderAnswer();
        }
      }
      if (version !== null) this._version = version;
      for (const id of [...changed, ...removed]) this._render(id);
      this._afterApply(msg.source || "fast", msg.event_id, msg.latency_ms, changed, removed);
      if (gap) {
        // Something was missed: fetch the whole panel again.
        const gen = this._gen;
        this._loadPanel(gen).catch((err) => gen === this._gen && this._showError(err.message, err.status));
      }
    }

    _replaceAll(cards, version, source, eventId, latency) {
      const fresh = new Map();
      for (const c of cards) if (isObj(c) && has(c.id) && !isCleared(c)) fresh.set(c.id, c);
      const removed = [...this._cards.keys()].filter((id) => !fresh.has(id));
      this._cards = fresh;
      for (const id of removed) this._done.delete(id);
      this._version = version;
      for (const id of new Set([...removed, ...this._sections.keys(), ...fresh.keys()])) this._render(id);
      this._afterApply(source, eventId, latency, [...fresh.keys()], removed);
    }

    _afterApply(source, eventId, latency, changed, removed) {
      this.setAttribute("data-version", String(this._version));
      this._placeholder.hidden = this._sections.size > 0;
      this._placeholder.textContent = "Waiting for the conversation…";
      const ms = num(latency);
      this._meta.textContent = `v${this._version}${source && source !== "snapshot" ? ` · ${source}` : ""}${
        ms !== null && ms > 0 ? ` · ${Math.round(ms)} ms` : ""
      }`;
      this._emit("copilot-update", {
        version: this._version,
        source,
        event_id: eventId || null,
        latency_ms: ms,
        cards: changed,
        removed,
      });
    }

    _onToken(data) {
      const msg = this._parse(data);
      if (!msg || !has(msg.field)) return;
      const field = str(msg.field);
      let p = this._previews.get(field);
      if (!p || p.eventId !== msg.event_id) p = { eventId: msg.event_id, text: "" };
      p.text += str(msg.text);
      p.at = Date.now();
      this._previews.set(field, p);
      this._renderPreviewOwner(field);
      if (!p.timer) {
        const check = () => {
          if (this._previews.get(field) !== p) return;
          const idle = Date.now() - p.at;
          if (idle >= PREVIEW_STALE_MS) this.clearPreview(field);
          else p.timer = this._later(check, PREVIEW_STALE_MS - idle + 50);
        };
        p.timer = this._later(check, PREVIEW_STALE_MS + 50);
      }
      this._emit("copilot-token", msg);
    }

    _renderPreviewOwner(field) {
      const owner = PREVIEW_CARD[field];
      if (!owner) {
        this._renderAnswer();
        return;
      }
      const s = this._sections.get(owner);
      const p = this._previews.get(field);
      // Cheap path while tokens stream: only the preview's text changes.
      if (s && p && s.previewText && s.previewText.isConnected) s.previewText.textContent = p.text;
      else this._render(owner);
    }

    _renderAnswer() {
      const p = this._previews.get("answer");
      if (!p) {
        this._answerEl.replaceChildren();
        return;
      }
      if (this._answerText && this._answerText.isConnected) {
        this._answerText.textContent = p.text;
        return;
      }
      this._answerText = h("span", null, p.text);
      this._answerEl.replaceChildren(
        h(
          "div",
          { class: "preview", style: "margin: 6px 8px 0" },
          h("span", { class: "label" }, "Copilot answer (writing…)"),
          this._answerText,
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", onclick: () => this.clearPreview("answer") }, "Hide answer")
          )
        )
      );
    }

    /* ---- rendering */

    _preview(field) {
      const p = this._previews.get(field);
      if (!p) return null;
      const text = h("span", null, p.text);
      const el = h("div", { class: "preview" }, h("span", { class: "label" }, "Writing…"), text);
      return { el, text };
    }

    _render(id) {
      const card = this._cards.get(id);
      const previewField = Object.keys(PREVIEW_CARD).find((f) => PREVIEW_CARD[f] === id);
      const preview = previewField ? this._preview(previewField) : null;
      let s = this._sections.get(id);
      if (!card && !preview) {
        if (s) {
          s.section.remove();
          this._sections.delete(id);
        }
        this._placeholder.hidden = this._sections.size > 0;
        return;
      }
      const c = card || { type: id, id, version: 0, status: "pending", data: {}, provenance: {} };
      const type = typeOf(c);
      if (!s) s = this._createSection(id, type);
      const d = obj(c.data);

      // Keep focus and open disclosures across the re-render.
      const active = this._root.activeElement;
      const focusKey = active && s.section.contains(active) ? active.getAttribute("data-key") : null;
      const open = new Map(
        [...s.section.querySelectorAll("details[data-key]")].map((e) => [e.getAttribute("data-key"), e.open])
      );

      const label = this._label(c, type, d);
      s.section.setAttribute("aria-label", label);
      s.title.textContent = label;
      const status = str(c.status) || "ok";
      s.section.className = `card t-${type} s-${status}`;
      if (type === "alert" && /high|critical|error/i.test(str(d.severity ?? d.level))) s.section.classList.add("high");
      if (type === "mood" && d.alert === true) s.section.classList.add("mood-alert");
      if (type === "action" && d.status === "proposed") s.section.classList.add("proposed");
      s.section.setAttribute("data-status", status);
      s.section.setAttribute("data-card-version", str(c.version));
      s.chips.replaceChildren(
        ...[
          status === "degraded" ? chip("degraded", "warn") : null,
          status === "pending" && card ? chip("pending", "info") : null,
          !card && preview ? chip("writing…", "info") : null,
        ].filter(Boolean)
      );

      let nodes;
      try {
        const fn = Object.prototype.hasOwnProperty.call(RENDER, type) ? RENDER[type] : RENDER._generic;
        nodes = fn.call(this, c, d, status);
      } catch (_) {
        nodes = [muted("This card could not be shown.")];
      }
      if (preview) {
        s.previewText = preview.text;
        nodes = type === "reply_draft" ? [preview.el, ...[nodes].flat()] : [...[nodes].flat(), preview.el];
      } else s.previewText = null;
      if (card) nodes = [...[nodes].flat(), provenance(c.provenance)];
      s.body.replaceChildren();
      add(s.body, [nodes]);
      if (type === "summary") {
        const prose = str(d.prose);
        if (s.live.textContent !== prose) s.live.textContent = prose;
      }

      for (const [key, isOpen] of open) {
        const el = s.section.querySelector(`details[data-key="${CSS_ESCAPE(key)}"]`);
        if (el) el.open = isOpen;
      }
      if (focusKey) {
        const el = s.section.querySelector(`[data-key="${CSS_ESCAPE(focusKey)}"]`);
        if (el) el.focus();
        else s.section.focus();
      }
    }

    _label(c, type, d) {
      if (type === "action") return `${d.status === "proposed" ? "Proposed action" : "Action"}: ${humanize(d.kind) || "write"}`;
      if (type === "alert") {
        const key = str(c.id).startsWith("alert:") ? str(c.id).slice(6) : "";
        const what = ALERT_TITLES[key] || humanize(key);
        return what ? `Alert: ${what}` : "Alert";
      }
      return TITLES[type] || humanize(type) || "Card";
    }

    _createSection(id, type) {
      const title = h("h3", null);
      const chips = h("span", { class: "chips-inline" });
      const live = type === "summary" ? h("p", { class: "prose", "aria-live": "polite" }) : null;
      const body = h("div", { class: "body" });
      const section = h(
        "section",
        { role: "region", tabindex: "-1", "data-card": id, "data-type": type },
        h("div", { class: "head" }, title, chips),
        live,
        body
      );
      // Insert by the fixed order; cards of the same type keep their arrival order.
      const r = rank(type);
      let before = null;
      for (const other of this._list.children) {
        if (rank(other.getAttribute("data-type")) > r) {
          before = other;
          break;
        }
      }
      this._list.insertBefore(section, before);
      const s = { section, title, chips, live, body, previewText: null };
      this._sections.set(id, s);
      this._placeholder.hidden = true;
      return s;
    }

    /* ---- outgoing */

    async _request(method, path, body) {
      const headers = { Accept: "application/json" };
      if (this._token) headers.Authorization = `Bearer ${this._token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      let res;
      try {
        res = await fetch(`${this._base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          cache: "no-store",
        });
      } catch (_) {
        const err = new Error("network error: the copilot server did not answer");
        err.status = 0;
        throw err;
      }
      const text = await res.text().catch(() => "");
      let parsed = null;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch (_) {
          parsed = null;
        }
      }
      if (!res.ok) {
        const e = obj(obj(parsed).error);
        const err = new Error(has(e.message) ? str(e.message) : `${res.status} ${res.statusText || "error"}`.trim());
        err.status = res.status;
        err.code = e.code || null;
        throw err;
      }
      return parsed;
    }

    /** Run a POST for a card: its buttons are disabled meanwhile, errors go to the error line. */
    async _act(cardId, calls, doneNote) {
      if (this._busy.has(cardId)) return false;
      this._busy.add(cardId);
      // The note belongs to the card as it was clicked: a newer version (often pushed by the very
      // request) gets its buttons back.
      const clicked = this._cards.get(cardId);
      const version = clicked ? clicked.version : undefined;
      this._render(cardId);
      const gen = this._gen;
      try {
        const results = await Promise.all(calls.map((f) => f()));
        if (gen !== this._gen) return false;
        if (doneNote && clicked) this._done.set(cardId, { version, note: doneNote });
        // An approval answers with the action card itself: show it now, the stream will agree.
        for (const r of results) this._adoptCard(r);
        return true;
      } catch (err) {
        if (gen === this._gen) this._showError(err.message || "request failed", err.status);
        return false;
      } finally {
        if (gen === this._gen) {
          this._busy.delete(cardId);
          this._render(cardId);
        }
      }
    }

    _adoptCard(r) {
      if (!isObj(r) || !has(r.id) || !isObj(r.data) || !has(r.type)) return;
      const known = this._cards.get(r.id);
      if (known && (num(known.version) ?? 0) >= (num(r.version) ?? 0)) return;
      if (isCleared(r)) this._cards.delete(r.id);
      else this._cards.set(r.id, r);
      this._render(r.id);
    }

    _post(suffix, body) {
      return () => this._request("POST", this._path(suffix), body);
    }

    _feedback(card, verdict, text) {
      const body = { card_id: card.id, card_version: num(card.version) ?? 0, verdict };
      if (has(text)) body.text = text;
      return this._post("/feedback", body);
    }

    _decide(card, approve) {
      const d = obj(card.data);
      const actionId = str(d.action_id) || str(card.id).replace(/^action:/, "");
      return this._act(card.id, [this._post(`/actions/${encodeURIComponent(actionId)}/${approve ? "approve" : "reject"}`, {})]);
    }

    /** The proposed action card whose `why` names this playbook step, if any. */
    _proposalFor(step) {
      if (!has(step)) return null;
      const re = new RegExp(`(^|[^A-Za-z0-9_-])${escapeRe(str(step))}([^A-Za-z0-9_-]|$)`, "i");
      for (const card of this._cards.values()) {
        const d = obj(card.data);
        if (typeOf(card) === "action" && d.status === "proposed" && re.test(str(d.why))) return card;
      }
      return null;
    }

    _doIt(card) {
      const step = obj(obj(card.data).next).step;
      const proposal = this._proposalFor(step);
      if (proposal) {
        const d = obj(proposal.data);
        const actionId = str(d.action_id) || str(proposal.id).replace(/^action:/, "");
        return this._act(
          card.id,
          [this._post(`/actions/${encodeURIComponent(actionId)}/approve`, {})],
          `Approved: ${humanize(d.kind)}${has(d.target) ? ` on ${str(d.target)}` : ""}.`
        );
      }
      // Nothing was changed here: the step ticks off only when the system shows it done.
      return this._act(card.id, [this._feedback(card, "accepted")], "Noted. The checklist ticks it off once the system shows it done.");
    }

    _currentChannel() {
      const j = this._cards.get("journey");
      const conv = arr(obj(j && j.data).this_conversation);
      const last = conv.length ? conv[conv.length - 1] : null;
      return isObj(last) && has(last.channel) ? str(last.channel) : typeof last === "string" ? last : null;
    }

    _answerOffer(card, verdict) {
      const offer = obj(obj(card.data).offer);
      const event = {
        event_id: uuid(),
        type: "action_result",
        speaker: "agent",
        ts: new Date().toISOString(),
        data: { action: "offer_response", offer_id: offer.offer_id ?? null, response: verdict },
      };
      const channel = this._currentChannel();
      if (channel) event.channel = channel; // without it the server would log a switch to chat
      return this._act(
        card.id,
        [this._feedback(card, verdict), this._post("/events", event)],
        verdict === "accepted" ? "Customer accepted the offer." : "Offer dismissed."
      );
    }

    async _copy(text, cardId) {
      let ok = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(text);
          ok = true;
        }
      } catch (_) {
        ok = false;
      }
      if (!ok) {
        const s = this._sections.get(cardId);
        const ta = h("textarea", { class: "copy-area", readonly: true, "aria-label": "Reply draft to copy" });
        ta.value = text;
        ta.style.width = "100%";
        ta.rows = 4;
        if (s) s.body.append(ta);
        ta.focus();
        ta.select();
        try {
          ok = document.execCommand("copy");
        } catch (_) {
          ok = false;
        }
        if (ok) ta.remove();
      }
      this._flash(cardId, ok ? "Copied." : "Select the text above and copy it.");
    }

    _flash(cardId, message) {
      const s = this._sections.get(cardId);
      if (!s) return;
      const note = s.body.querySelector(".flash");
      if (note) note.textContent = message;
    }

    _buttons(card, defs) {
      const busy = this._busy.has(card.id);
      return h(
        "div",
        { class: "actions" },
        defs.map(([label, key, cls, fn, extra]) =>
          h(
            "button",
            Object.assign(
              {
                type: "button",
                class: cls || null,
                "data-key": key,
                "aria-disabled": busy ? "true" : null,
                onclick: () => {
                  if (!this._busy.has(card.id)) fn();
                },
              },
              extra || {}
            ),
            label
          )
        ),
        h("span", { class: "flash note", role: "status" }, busy ? "Sending…" : "")
      );
    }

    _doneNote(card) {
      const done = this._done.get(card.id);
      return done && done.version === card.version ? done.note : null;
    }
  }

  const CSS_ESCAPE = (s) =>
    window.CSS && typeof window.CSS.escape === "function" ? window.CSS.escape(s) : str(s).replace(/["\\]/g, "\\$&");

  function provenance(p) {
    const pv = obj(p);
    const groups = [
      ["events", "transcript events"],
      ["tool_calls", "tool calls"],
      ["passages", "passages"],
    ]
      .map(([k, label]) => [label, arr(pv[k]).filter(has)])
      .filter(([, ids]) => ids.length);
    if (!groups.length) return null;
    return h(
      "details",
      { class: "prov", "data-key": "prov" },
      h("summary", null, `Based on ${groups.map(([label, ids]) => `${ids.length} ${label}`).join(", ")}`),
      groups.map(([label, ids]) => h("p", null, `${label}: `, ids.map((i, n) => [n ? ", " : "", h("code", null, str(i))])))
    );
  }

  function sourceChips(sources) {
    const items = arr(sources).filter(has);
    if (!items.length) return null;
    return h(
      "ul",
      { class: "chips", "aria-label": "Systems consulted" },
      items.map((s) => {
        const text = str(s);
        const at = text.lastIndexOf(":");
        const name = at > 0 ? text.slice(0, at) : text;
        const outcome = at > 0 ? text.slice(at + 1) : "";
        const kind = /^(ok|cached|hit)$/i.test(outcome) ? "ok" : /^(empty|skipped)?$/i.test(outcome) ? "" : "bad";
        return h("li", null, chip(`${name}${outcome ? `: ${outcome}` : ""}`, kind, text));
      })
    );
  }

  /* ---- issue 8: verification, what the customer already gave, the bot's handoff, sessions */

  // status -> [mark (decorative), label]; the colours come from .verif.v-<status>.
  const VERIFICATION = {
    verified: ["✓", "Verified"],
    expired: ["!", "Verification expired — verify again"],
    failed: ["✕", "Verification failed"],
    none: ["", "Not verified"],
  };

  /** The customer card's verification line; null without data (older servers send none). */
  function verification(v) {
    if (!isObj(v) || !has(v.status)) return null;
    const st = str(v.status);
    const [mark, label] = VERIFICATION[st] || ["", sentence(st)];
    let text = str(v.text);
    if (!text && has(v.method))
      text = [`by ${humanize(v.method)}`, has(v.channel) ? `in ${str(v.channel)}` : "", has(v.at) ? `at ${when(v.at)}` : ""]
        .filter(has)
        .join(" ");
    const same = text.toLowerCase() === label.toLowerCase();
    return h(
      "div",
      {
        class: `verif v-${st.replace(/[^a-z_-]/gi, "")}`,
        role: "status",
        "aria-label": "Verification",
        "data-verification": st,
        "data-method": has(v.method) ? str(v.method) : null,
        // The raw check for whoever hovers: "otp_sms · chat · 2024-05-01 10:02".
        title: [str(v.method), str(v.channel), when(v.at)].filter(has).join(" · ") || null,
      },
      h("span", { class: "badge" }, mark ? h("span", { "aria-hidden": "true" }, `${mark} `) : null, label),
      text && !same ? h("span", { class: "verif-text" }, text) : null,
      has(v.source) ? h("span", { class: "src" }, `(${str(v.source)})`) : null
    );
  }

  const FIELD_NAMES = {
    identity: "Identity check",
    phone: "Phone",
    account: "Account",
    order: "Order",
    email: "Email",
    card_last4: "Card (last 4)",
    issue: "Issue",
    amount: "Amount",
    date: "Date",
  };
  const fieldName = (f) => FIELD_NAMES[str(f)] || sentence(f) || "Detail";

  /** Summary: what the customer or the bot already gave, so the agent does not ask again. */
  function providedList(items) {
    const rows = arr(items).filter((x) => isObj(x) && (has(x.field) || has(x.value)));
    if (!rows.length) return null;
    const title = "Already provided — don't ask again";
    return h(
      "div",
      { class: "box provided", role: "group", "aria-label": title },
      h("h4", null, title),
      h(
        "dl",
        { class: "facts" },
        rows.map((x) => {
          const from = [has(x.source) ? fromWhom(x.source) : "", has(x.channel) ? `in ${str(x.channel)}` : ""].filter(has).join(" ");
          return [
            h("dt", null, fieldName(x.field)),
            h("dd", { "data-field": str(x.field) }, str(x.value).length > 40 ? str(x.value) : h("strong", null, str(x.value) || "given"), from ? h("span", { class: "src" }, ` · ${from}`) : null),
          ];
        })
      )
    );
  }

  /** Summary: [who handed over, where it started, what the bot tried, what it left open]. */
  function handoffParts(ho) {
    if (!isObj(ho)) return [];
    const origin = obj(ho.origin);
    const kind = humanize(origin.kind);
    const chan = str(origin.channel);
    const by = h(
      "p",
      { class: "handoff" },
      chip("handoff", "info"),
      " Handed over by ",
      h("strong", null, str(ho.bot) || "a bot"),
      has(ho.from_channel) ? ` (${str(ho.from_channel)})` : ""
    );
    const from =
      has(kind) || has(chan)
        ? h(
            "p",
            { class: "note" },
            `Started from ${[kind, has(chan) && !kind.includes(chan) ? `(${chan})` : ""].filter(has).join(" ")}`,
            has(origin.reference) ? [" · ", h("code", null, str(origin.reference))] : null,
            has(origin.at) ? ` · ${when(origin.at)}` : ""
          )
        : null;
    const tried = arr(ho.tried).filter((t) => isObj(t) && has(t.name));
    const triedList = tried.length
      ? h(
          "div",
          { class: "list tried" },
          h("h4", null, "Bot already tried"),
          h(
            "ul",
            { "aria-label": "Bot already tried" },
            tried.map((t) =>
              h(
                "li",
                null,
                has(t.kind) ? [chip(str(t.kind)), " "] : null,
                h("strong", null, t.kind === "action" ? sentence(t.name) : str(t.name)),
                has(t.outcome) ? h("span", { class: "muted" }, ` — ${str(t.outcome)}`) : null
              )
            )
          )
        )
      : null;
    return [by, from, triedList, list("Open questions", ho.open_questions, "open-questions")];
  }

  /** "verified by PIN in IVR, 4 minutes ago" as it comes; a bare "otp_sms in chat" gets a label. */
  const verifiedNote = (v) => {
    const text = str(v);
    return /^\s*(not\s+)?verified\b/i.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : `Verified: ${text.replace(/_/g, " ")}`;
  };
  /** "from chatbot", but "handoff from chatbot" as it is. */
  const fromWhom = (source) => {
    const text = str(source);
    return /\bfrom\b/i.test(text) ? text : `from ${text}`;
  };

  /** Journey: one of the customer's copilot sessions, as a timeline item. */
  function sessionItem(s) {
    const start = str(s.started_at);
    const last = str(s.last_at);
    let span = when(start);
    if (has(last) && when(last) !== span)
      span = start.slice(0, 10) === last.slice(0, 10) ? `${span}–${when(last).slice(11)}` : `${span} – ${when(last)}`;
    const current = s.current === true;
    return h(
      "li",
      { class: `session${current ? " current" : ""}`, "aria-current": current ? "true" : null, "data-session": str(s.session_id) },
      h("span", { class: "when" }, [span, str(s.channel), "copilot session"].filter(has).join(" · ")),
      current ? [" ", chip("this conversation", "ok")] : null,
      h("div", null, has(s.intent) ? humanize(s.intent) : h("span", { class: "muted" }, "intent not known yet")),
      has(s.verified) ? h("div", { class: "muted" }, verifiedNote(s.verified)) : null
    );
  }

  /* ---------------------------------------------------------------- card renderers */
  // Each gets (card, data, status) with `this` the element, and returns nodes. Any field may be
  // missing or null.

  const RENDER = {
    customer(c, d, status) {
      const verif = verification(d.verification);
      if (status === "empty") return [muted(str(d.message) || "No customer identified yet."), verif];
      if (status === "pending" || (!has(d.name) && !has(d.customer_id) && arr(d.candidates).length)) {
        const cands = arr(d.candidates).filter(isObj);
        return [
          h("p", null, str(d.message) || "Confirming who this is…"),
          verif,
          cands.length
            ? h(
                "ul",
                { "aria-label": "Possible customers" },
                cands.map((x) =>
                  h(
                    "li",
                    null,
                    h("strong", null, str(x.full_name) || str(x.name) || "unknown"),
                    has(x.customer_id) ? ` · ${str(x.customer_id)}` : "",
                    has(x.confidence) ? ` · ${pct(x.confidence)} match` : ""
                  )
                )
              )
            : null,
          sourceChips(d.sources),
        ];
      }
      const out = [
        h(
          "p",
          { class: "name" },
          h("span", { class: "big" }, str(d.name) || str(d.customer_id) || "Unknown customer"),
          has(d.tier) ? [" ", chip(str(d.tier), "info")] : null
        ),
        verif,
        facts([
          ["Customer", str(d.customer_id)],
          ["Since", str(d.customer_since)],
          ["Matched by", arr(d.matched_by).map(str)],
        ]),
      ];
      const degraded = arr(d.degraded).filter(has);
      if (degraded.length)
        out.push(
          h("div", { class: "box warn" }, h("strong", null, "Some systems did not answer: "), degraded.map(str).join("; "))
        );
      for (const a of arr(d.accounts).filter(isObj)) out.push(account(a));
      const open = arr(d.open_orders).map((o) => (isObj(o) ? str(o.order_number ?? o.order ?? o.id) : str(o)));
      if (open.filter(has).length) out.push(h("p", null, h("strong", null, "Open orders: "), open.filter(has).join(", ")));
      const purchases = arr(d.recent_purchases).filter(isObj);
      if (purchases.length)
        out.push(
          h("h4", null, "Recent purchases"),
          h(
            "ul",
            null,
            purchases.map((p) =>
              h(
                "li",
                null,
                [str(p.order), str(p.date), has(p.total) ? money(p.total) : ""].filter(has).join(" · "),
                arr(p.items).length
                  ? h("span", { class: "muted" }, ` (${arr(p.items).map((i) => (isObj(i) ? str(i.name) : str(i))).filter(has).join(", ")})`)
                  : null
              )
            )
          )
        );
      out.push(sourceChips(d.sources));
      return out;
    },

    journey(c, d) {
      const conv = arr(d.this_conversation).length
        ? arr(d.this_conversation).map((x) => (isObj(x) ? str(x.channel) : str(x)))
        : arr(d.channels).map((x) => (isObj(x) ? str(x.channel) : str(x)));
      const entries = [d.history, d.entries, d.timeline].map(arr).find((x) => x.length) || [];
      const sessions = arr(d.sessions).filter(isObj);
      const out = [];
      const origin = obj(d.origin);
      const came = str(origin.summary) || [humanize(origin.kind), has(origin.channel) ? `(${str(origin.channel)})` : ""].filter(has).join(" ");
      if (has(came))
        out.push(
          h(
            "p",
            { class: "origin", title: has(origin.source) ? str(origin.source) : null },
            h("strong", null, "Came from: "),
            came,
            has(origin.at) || has(origin.source)
              ? h("span", { class: "note" }, ` · ${[when(origin.at), str(origin.source)].filter(has).join(" · ")}`)
              : null
          )
        );
      if (conv.filter(has).length)
        out.push(h("p", null, h("strong", null, "This conversation: "), conv.filter(has).join(" → ")));
      // Copilot sessions and earlier contacts on one timeline, newest first (undated ones last).
      const items = [
        ...sessions.map((s) => ({ at: str(s.last_at) || str(s.started_at), node: () => sessionItem(s) })),
        ...entries.filter(isObj).map((e) => ({
          at: str(e.at),
          node: () =>
            h(
              "li",
              null,
              h("span", { class: "when" }, [when(e.at), str(e.channel), humanize(e.kind)].filter(has).join(" · ")),
              h("div", null, str(e.summary)),
              has(e.outcome) ? h("div", { class: "muted" }, `Outcome: ${str(e.outcome)}`) : null
            ),
        })),
      ];
      if (sessions.length) {
        const t = (x) => (has(x.at) ? Date.parse(x.at) : NaN);
        items.sort((a, b) => {
          const ta = t(a);
          const tb = t(b);
          if (Number.isNaN(ta) || Number.isNaN(tb)) return Number.isNaN(ta) - Number.isNaN(tb);
          return tb - ta;
        });
      }
      if (items.length)
        out.push(
          h(
            "ol",
            {
              class: "timeline",
              "aria-label": sessions.length ? "Sessions and earlier contacts, newest first" : "Earlier contacts, newest first",
            },
            items.map((x) => x.node())
          )
        );
      if (!entries.length) out.push(muted("No earlier contacts on record."));
      return out;
    },

    summary(c, d, status) {
      const out = [];
      if (!has(d.prose)) out.push(muted(str(d.reason) || "Nothing to summarize yet."));
      if (has(d.prose)) out.push(h("p", { class: "note" }, d.prose_source === "llm" ? "Written by the model" : "Extractive summary"));
      // A handoff: who handed over, then what was already given, then what the bot tried and left open.
      const [byBot, startedFrom, ...fromBot] = handoffParts(d.handoff);
      out.push(byBot, startedFrom, providedList(d.provided), fromBot);
      out.push(
        facts([
          ["Reason", humanize(d.reason_for_contact)],
          ["Status", has(d.resolution_state) ? chip(str(d.resolution_state), d.resolution_state === "resolved" ? "ok" : "warn") : ""],
          ["Channels", arr(d.channels).map(str)],
        ]),
        list("Context", d.customer_context),
        list("Verified", d.verified),
        list("Done", d.actions_taken),
        list("Open items", d.open_items)
      );
      const words = arr(d.customer_words).filter(has);
      if (words.length)
        out.push(
          h(
            "details",
            { "data-key": "words" },
            h("summary", null, "In the customer's words"),
            words.map((w) => h("blockquote", null, str(w)))
          )
        );
      out.push(llmNote(d));
      return out;
    },

    mood(c, d, status) {
      const cur = obj(d.current);
      const label = cur.label ?? d.label;
      if (!has(label) && status === "empty") return [muted("No customer turns yet.")];
      const score = num(cur.score ?? cur.polarity ?? d.score);
      const kind = label === "negative" ? "bad" : label === "positive" ? "ok" : "";
      const out = [
        h(
          "p",
          null,
          chip(str(label) || "unknown", kind),
          score !== null ? ` ${score >= 0 ? "+" : ""}${score.toFixed(2)}` : "",
          has(d.direction) ? h("span", { class: "muted" }, ` · ${str(d.direction)}`) : ""
        ),
        sparkline(d.trend),
      ];
      if (d.alert === true)
        out.push(h("div", { class: "box bad" }, h("strong", null, "Escalation risk: "), str(d.alert_reason) || "watch this customer"));
      if (has(d.reason)) out.push(h("blockquote", null, str(d.reason)));
      const cues = arr(cur.cues).filter(isObj);
      if (cues.length)
        out.push(
          h(
            "ul",
            { class: "chips", "aria-label": "Escalation cues" },
            cues.map((q) => h("li", null, chip(humanize(q.kind), "warn", str(q.evidence))))
          )
        );
      const risk = num(d.risk ?? cur.escalation_risk);
      if (risk !== null && risk > 0) out.push(h("p", { class: "note" }, `Escalation risk ${pct(risk)}`));
      return out;
    },

    intent(c, d, status) {
      if (!has(d.intent)) return [muted(status === "empty" ? "No intent yet." : "Unknown intent.")];
      const out = [
        h(
          "p",
          null,
          h("span", { class: "big" }, humanize(d.intent)),
          has(d.confidence) ? h("span", { class: "muted" }, ` · ${pct(d.confidence)} confident`) : ""
        ),
      ];
      if (has(d.topic) && d.topic !== d.intent) out.push(h("p", null, "Conversation topic: ", h("strong", null, humanize(d.topic))));
      const alts = arr(d.alternatives)
        .filter((a) => (Array.isArray(a) ? a[0] : isObj(a) ? a.intent : a) !== d.intent)
        .map((a) => (Array.isArray(a) ? `${humanize(a[0])} ${pct(a[1])}` : isObj(a) ? `${humanize(a.intent)} ${pct(a.confidence)}` : str(a)))
        .filter(has);
      if (alts.length) out.push(h("p", { class: "note" }, `Also possible: ${alts.join(", ")}`));
      return out;
    },

    next_best_action(c, d, status) {
      const out = [];
      const esc = obj(d.escalation);
      if (has(esc.title) || has(esc.step))
        out.push(
          h(
            "div",
            { class: "box bad" },
            h("strong", null, "Escalate: "),
            str(esc.title) || humanize(esc.step),
            has(esc.reason) ? h("div", null, str(esc.reason)) : null,
            has(esc.uses) ? h("div", { class: "note" }, "uses ", h("code", null, str(esc.uses))) : null
          )
        );
      const next = obj(d.next);
      if (has(d.playbook)) out.push(h("p", { class: "note" }, `Playbook: ${str(d.playbook)}`));
      if (has(next.title) || has(next.step)) {
        out.push(h("p", { class: "big" }, str(next.title) || humanize(next.step)));
        if (has(next.say)) out.push(h("p", { class: "say" }, str(next.say)));
        if (has(next.uses)) out.push(h("p", { class: "note" }, "uses ", h("code", null, str(next.uses))));
        const waiting = arr(next.waiting_for).filter(has);
        if (waiting.length) out.push(h("p", { class: "warn-text" }, `Waiting for ${waiting.map(str).join(", ")}`));
      } else if (d.resolved === true) out.push(h("p", null, chip("resolved", "ok"), " Every step is done."));
      else if (arr(d.unresolved).length)
        out.push(h("p", { class: "warn-text" }, `Not resolved yet: ${arr(d.unresolved).map(str).join("; ")}`));
      if (has(d.reason)) out.push(h("p", { class: "muted" }, has(next.step) ? `Why: ${str(d.reason)}` : str(d.reason)));
      if (has(d.rationale)) out.push(h("p", null, chip("model", "info"), " ", str(d.rationale)));
      const blocked = arr(d.blocked_by).filter(has);
      if (blocked.length) out.push(h("p", { class: "warn-text" }, `Waiting on: ${blocked.map(str).join(", ")}`));
      const steps = arr(d.steps).filter(isObj);
      if (steps.length) {
        const marks = { done: "✓", next: "▶", open: "○", not_needed: "–" };
        const words = { done: "done", next: "next", open: "to do", not_needed: "not needed" };
        out.push(
          h(
            "details",
            { "data-key": "steps", open: status !== "empty" && steps.length <= 8 ? true : null },
            h("summary", null, `Checklist (${has(d.count) ? str(d.count) : `${steps.filter((s) => s.status === "done").length}/${steps.length} done`})`),
            h(
              "ul",
              { class: "checklist" },
              steps.map((s) =>
                h(
                  "li",
                  { class: str(s.status) },
                  h("span", { class: "mark", "aria-hidden": "true" }, marks[s.status] || "○"),
                  h("span", null, str(s.title) || humanize(s.id), srOnly(` (${words[s.status] || str(s.status)})`))
                )
              )
            )
          )
        );
      }
      if (has(next.step) || has(next.title)) {
        const note = this._doneNote(c);
        const proposal = this._proposalFor(next.step);
        if (note) out.push(h("p", { class: "note" }, note));
        else {
          const pd = proposal ? obj(proposal.data) : null;
          if (pd) out.push(...preview(pd));
          const ready = !pd || pd.needs_approval !== false;
          out.push(
            this._buttons(c, [
              ...(ready ? [[pd ? "Approve" : "I've done this", "do", "primary", () => this._doIt(c)]] : []),
              [
                "Dismiss",
                "dismiss",
                null,
                () => this._act(c.id, [this._feedback(c, "dismissed")], "Dismissed."),
                { "aria-label": "Dismiss this suggestion" },
              ],
            ])
          );
        }
      }
      out.push(llmNote(d));
      return out;
    },

    offer(c, d) {
      const offer = obj(d.offer);
      if (!has(offer.offer_id) && !has(offer.title)) {
        return [
          muted(has(d.held_back) ? `No offer: ${str(d.held_back)}` : "No offer right now."),
          llmNote(d),
        ];
      }
      const answered = obj(d.answered)[offer.offer_id];
      const why = str(offer.why) || str(d.why);
      const out = [
        h("p", null, h("span", { class: "big" }, str(offer.title) || humanize(offer.offer_id)), has(offer.kind) ? [" ", chip(humanize(offer.kind), "info")] : null),
      ];
      if (has(d.pitch)) out.push(h("p", { class: "say" }, str(d.pitch)));
      if (why)
        out.push(
          h("details", { "data-key": "why" }, h("summary", null, "Why this offer"), h("p", null, why), has(offer.score) ? h("p", { class: "note" }, `Priority ${str(offer.score)}`) : null)
        );
      const note = this._doneNote(c);
      if (answered) out.push(h("p", null, chip(`customer ${str(answered)}`, answered === "accepted" ? "ok" : "")));
      else if (note) out.push(h("p", { class: "note" }, note));
      else
        out.push(
          this._buttons(c, [
            ["Accept", "accept", "primary", () => this._answerOffer(c, "accepted"), { "aria-label": `Accept offer: ${str(offer.title) || "offer"}` }],
            ["Dismiss", "dismiss", null, () => this._answerOffer(c, "dismissed"), { "aria-label": `Dismiss offer: ${str(offer.title) || "offer"}` }],
          ])
        );
      out.push(llmNote(d));
      return out;
    },

    knowledge(c, d, status) {
      const raw = arr(d.hits).length ? arr(d.hits) : arr(d.results);
      const cited = new Set(arr(d.cited).map(str));
      const hits = raw.filter(isObj).map((x) => Object.assign({}, x, obj(x.citation)));
      const out = [];
      if (has(d.query)) {
        const q = str(d.query);
        out.push(h("p", { class: "note", title: q.length > 140 ? q : null }, `Searched: “${q.length > 140 ? `${q.slice(0, 140)}…` : q}”`));
      }
      if (!hits.length) {
        out.push(muted(str(d.reason) || (status === "empty" ? "No article found yet." : "No article found.")));
        out.push(llmNote(d));
        return out;
      }
      out.push(
        h(
          "ol",
          { class: "hits" },
          hits.map((x, n) => {
            const isCited = cited.has(str(x.chunk_id)) || cited.has(str(x.article_id));
            const href = safeHref(x.url, this._base || undefined);
            const title = [str(x.title) || str(x.article_id) || `Article ${n + 1}`, str(x.section)].filter(has).join(" — ");
            return h(
              "li",
              { class: isCited ? "cited" : null },
              href
                ? h("a", { href, target: "_blank", rel: "noopener noreferrer", "data-key": `hit-${n}` }, title, srOnly(" (opens in a new tab)"))
                : h("strong", null, title),
              isCited ? [" ", chip("cited", "ok", "the model cited this passage")] : null,
              has(x.snippet) ? h("p", { class: "snippet" }, str(x.snippet)) : null
            );
          })
        )
      );
      if (has(d.reason) && d.status && d.status !== "ok") out.push(h("p", { class: "note" }, str(d.reason)));
      out.push(llmNote(d));
      return out;
    },

    reply_draft(c, d) {
      if (!has(d.text)) return [muted(str(d.reason) || "No draft yet.")];
      const text = str(d.text);
      const out = [h("p", { class: "draft" }, text)];
      const cites = arr(d.citations).filter(has);
      if (cites.length) out.push(h("p", { class: "note" }, "Cites ", cites.map((x, n) => [n ? ", " : "", h("code", null, str(x))])));
      out.push(
        this._buttons(c, [
          ["Copy", "copy", null, () => this._copy(text, c.id), { "aria-label": "Copy the reply draft" }],
          [
            "Insert",
            "insert",
            "primary",
            () => {
              this._emit("copilot-insert", { text }, true);
              this._flash(c.id, "Inserted.");
            },
            { "aria-label": "Insert the reply draft into the reply box" },
          ],
        ])
      );
      return out;
    },

    alert(c, d) {
      const level = str(d.severity ?? d.level);
      const cands = arr(d.candidates).filter(has);
      const repeat = str(c.id) === "alert:repeat";
      // The value and who gave it, unless the message already says so.
      const restate = (has(d.field) || has(d.value)) && !(has(d.value) && str(d.message).includes(str(d.value)));
      return [
        // role=alert: a screen reader announces the message when the alert appears.
        h("p", { class: "alert-msg", role: "alert" }, str(d.message) || humanize(d.kind) || "Attention"),
        level || has(d.kind) ? h("p", null, level ? chip(level, /high|critical|error/i.test(level) ? "bad" : "warn") : null, has(d.kind) && has(d.message) ? [" ", chip(humanize(d.kind))] : null) : null,
        restate
          ? h(
              "p",
              { class: "note" },
              repeat ? `Already given: ${fieldName(d.field)}` : `${fieldName(d.field)}:`,
              has(d.value) ? [" ", h("strong", null, str(d.value))] : null,
              has(d.source) ? ` · ${fromWhom(d.source)}` : ""
            )
          : null,
        cands.length ? h("p", { class: "note" }, `Candidates: ${cands.map((x) => (isObj(x) ? str(x.customer_id) : str(x))).join(", ")}`) : null,
      ];
    },

    action(c, d) {
      const st = str(d.status);
      const kind = { proposed: "info", approved: "ok", done: "ok", rejected: "", failed: "bad" }[st] ?? "";
      const out = [
        h("p", null, h("span", { class: "big" }, humanize(d.kind) || "Action"), has(d.target) ? ` · ${str(d.target)}` : "", " ", st ? chip(st, kind) : null),
      ];
      if (has(d.why)) out.push(h("p", { class: "muted" }, `Why: ${str(d.why)}`));
      out.push(
        facts([
          ["Proposed by", str(d.proposed_by)],
          ["Decided by", str(d.decided_by)],
          ["At", when(d.decided_at)],
          ["Result", str(d.result)],
        ])
      );
      const req = obj(d.request);
      const reqRows = Object.entries(req).filter(([k, v]) => k !== "kind" && has(v));
      if (reqRows.length)
        out.push(h("details", { "data-key": "request" }, h("summary", null, "Request"), facts(reqRows.map(([k, v]) => [humanize(k), str(v)]))));
      out.push(...preview(d));
      const nba = this._cards.get("next_best_action");
      const onStep = nba && this._proposalFor(obj(obj(nba.data).next).step) === c;
      if (onStep && st === "proposed") out.push(h("p", { class: "note" }, "Approve it on the next step above."));
      else if (d.needs_approval === true || (d.needs_approval === undefined && st === "proposed" && !has(d.blocked)))
        out.push(
          this._buttons(c, [
            ["Approve", "approve", "primary", () => this._decide(c, true), { "aria-label": `Approve: ${humanize(d.kind)}` }],
            ["Reject", "reject", "danger", () => this._decide(c, false), { "aria-label": `Reject: ${humanize(d.kind)}` }],
          ])
        );
      return out;
    },

    _generic(c, d) {
      const rows = Object.entries(d).filter(([, v]) => has(v) && !isObj(v) && !Array.isArray(v));
      return [facts(rows.map(([k, v]) => [humanize(k), str(v)])) || muted("Nothing to show.")];
    },
  };

  // What approving would change, as the system of record computed it before anything is written.
  function preview(d) {
    const out = [];
    if (has(d.preview)) out.push(h("p", { class: "say" }, `If approved: ${str(d.preview)}`));
    const changes = Object.entries(obj(d.changes)).filter(([, v]) => has(v));
    if (changes.length) out.push(facts(changes.map(([k, v]) => [humanize(k), str(v)])));
    if (has(d.blocked)) out.push(h("p", { class: "warn-text" }, `Cannot be done now: ${str(d.blocked)}`));
    return out;
  }

  function account(a) {
    const due = isObj(a.past_due) ? a.past_due : null;
    const ap = obj(a.autopay);
    const parts = [
      h(
        "p",
        null,
        h("strong", null, `Account ${str(a.account_number)}`),
        has(a.balance) ? h("span", null, ` · balance ${money(a.balance)}`) : null
      ),
    ];
    if (due)
      parts.push(
        h(
          "div",
          { class: "box bad" },
          h("strong", null, `Past due ${money(due.amount)}`),
          has(due.due_date) ? ` since ${str(due.due_date)}` : "",
          has(due.days_past_due) ? ` (${str(due.days_past_due)} days)` : "",
          num(due.late_fees) ? h("div", null, `Late fees ${money(due.late_fees)}`) : null
        )
      );
    if (has(ap.status)) {
      const bad = ap.status === "failed" || ap.card_expired === true;
      parts.push(
        h(
          "p",
          null,
          "Autopay: ",
          chip(str(ap.status), ap.status === "active" && !bad ? "ok" : bad ? "bad" : ""),
          has(ap.card) ? ` ${str(ap.card)}` : "",
          ap.card_expired === true ? [" ", chip("card expired", "bad")] : null,
          has(ap.last_failure_reason) ? h("span", { class: "muted" }, ` · ${str(ap.last_failure_reason)}`) : null
        )
      );
    }
    for (const u of arr(a.usage).filter(isObj)) {
      const allowance = u.allowance_gb === null ? "unlimited" : has(u.allowance_gb) ? `${str(u.allowance_gb)} GB` : "";
      const recent = arr(u.recent)
        .map((r) => (Array.isArray(r) ? `${str(r[0])}: ${str(r[1])} GB` : isObj(r) ? `${str(r.month)}: ${str(r.gb)} GB` : str(r)))
        .filter(has);
      const over = num(u.overage_months);
      parts.push(
        h(
          "div",
          { class: "usage" },
          h("span", null, [`Line ${lastFour(u.msisdn || u.line_id)}`, str(u.plan), allowance].filter(has).join(" · ")),
          over ? [" ", chip(`over in ${over} of ${recent.length || 4} months`, "warn")] : null,
          recent.length ? h("div", { class: "note" }, recent.join(", ")) : null
        )
      );
    }
    return h("div", { class: "acct" }, parts);
  }

  window.customElements.define("copilot-panel", CopilotPanel);
})();
