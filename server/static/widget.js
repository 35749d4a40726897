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
 *   element.ask(question)  ask the copilot (POST .../ask), as the panel's own Ask box does;
 *                          resolves to the answer ({status, answer, citations, ...}) or null
 *   events (on the host):  copilot-update {version, source, event_id, latency_ms, cards, removed}
 *                          copilot-token  (the token delta as received)
 *                          copilot-transcript (a live call's line as received: partial or final)
 *                          copilot-insert {text} (bubbles, composed): "Insert" on the reply draft
 *                          copilot-answer {question, status, answer, citations} (bubbles, composed)
 *                          copilot-error  {message, status}
 */
(() => {
  "use strict";
  if (!window.customElements || window.customElements.get("copilot-panel")) return;

  // Cards in this order, top to bottom; several alert or action cards keep their arrival order.
  // The first screen: alerts, the customer header, a bot's handoff, the next step, approvals, the
  // offer, the best article, the draft; then, folded to one line each, the rest.
  const ORDER = [
    "alert",
    "customer",
    "handoff",
    "next_best_action",
    "action",
    "offer",
    "knowledge",
    "reply_draft",
    "summary",
    "mood",
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
  const DEPENDENTS = {
    intent: ["customer"],
    mood: ["customer", "alert:escalation"],
    alert: ["customer"],
    next_best_action: ["customer"],
    knowledge: ["reply_draft"],
  };
  const BACKOFF_MS = [1000, 2000, 5000];
  // A best passage longer than this opens at three lines with "Show all": the first screen holds
  // the next step and the answer, not one long quote.
  const CLAMP_CHARS = 200;
  const CAPTION_SHOWN_MS = 6000; // a call's last final stays this long under the top bar
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

  /* Agent language: what the engine writes for logs ("past due 103.08", "(card_expired)", event
   * UUIDs) said the way an agent reads it. Every text an element gets goes through `plain`,
   * except inside <code>, <pre>, <textarea> and elements marked data-raw (quotes, drafts). */
  const UUID_RE = /\s*\(?\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b\)?/gi;
  const HEX_ID_RE = /\s*\(?\b(?:s|act|h|evt)-[0-9a-f]{12,}\b\)?/g;
  const CODE_RE = /(^|[^\w@.\/#-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w@]|\.\w)/g;
  const MONEY_RE = /(^|[^\d$.,\w])(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})(?![\d%]|\.\d|\s*(?:GB|MB|x\b|%))/g;
  const SCORE_WORDS = /(risk|confidence|score|priority|polarity)\s*$/i;
  function plain(text) {
    let s = str(text);
    if (!s) return s;
    s = s.replace(UUID_RE, "").replace(HEX_ID_RE, "");
    s = s.replace(CODE_RE, (_m, pre, code) => `${pre}${code.replace(/_/g, " ")}`);
    s = s.replace(MONEY_RE, (m, pre, whole, cents, at, all) => {
      if (SCORE_WORDS.test(all.slice(Math.max(0, at - 16), at + pre.length))) return m;
      return `${pre}${money(`${whole.replace(/,/g, "")}.${cents}`)}`;
    });
    return s;
  }
  const RAW_TAGS = new Set(["CODE", "PRE", "TEXTAREA", "SCRIPT", "STYLE"]);

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
    const raw = RAW_TAGS.has(el.tagName) || (el.hasAttribute && el.hasAttribute("data-raw"));
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false || k === "") continue;
      el.append(k instanceof Node ? k : raw ? String(k) : plain(String(k)));
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
  /* A small, safe Markdown: headings, **bold**, *italic*, lists, [links](https://...) and `code`.
   * Everything else is text: nothing is parsed as HTML. */
  const INLINE_RE = /`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|(?<![\w])_([^_\s][^_]*)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/g;
  function inline(text, base) {
    const out = [];
    let at = 0;
    const src = str(text);
    for (const m of src.matchAll(INLINE_RE)) {
      if (m.index > at) out.push(src.slice(at, m.index));
      if (m[1] !== undefined) out.push(h("code", null, m[1]));
      else if (m[2] !== undefined || m[3] !== undefined) out.push(h("strong", null, inline(m[2] ?? m[3], base)));
      else if (m[4] !== undefined || m[5] !== undefined) out.push(h("em", null, inline(m[4] ?? m[5], base)));
      else {
        const href = safeHref(m[7], base);
        out.push(href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, inline(m[6], base)) : m[6]);
      }
      at = m.index + m[0].length;
    }
    if (at < src.length) out.push(src.slice(at));
    return out;
  }
  function markdown(text, base) {
    const out = [];
    let para = [];
    let items = null;
    const flush = () => {
      if (para.length) out.push(h("p", { class: "md-p" }, inline(para.join(" "), base)));
      para = [];
      if (items) out.push(h(items.tag, { class: "md-list" }, items.lines.map((l) => h("li", null, inline(l, base)))));
      items = null;
    };
    for (const rawLine of str(text).split(/\r?\n/)) {
      const line = rawLine.trim();
      let m;
      if (!line) flush();
      else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flush();
        out.push(h("p", { class: "md-h" }, h("strong", null, inline(m[2].replace(/\s*#+$/, ""), base))));
      } else if ((m = /^(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line))) {
        const tag = m[1] !== undefined ? "ol" : "ul";
        if (para.length || (items && items.tag !== tag)) flush();
        if (!items) items = { tag, lines: [] };
        items.lines.push(m[2]);
      } else if (items && /^\s{2,}/.test(rawLine)) items.lines[items.lines.length - 1] += ` ${line}`;
      else {
        if (items) flush();
        para.push(line);
      }
    }
    flush();
    return out;
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
.caption { margin: 0 0 6px; font-size: 12px; color: #3b4350; }
.caption[data-final="false"] .said { font-style: italic; color: #5b6472; }
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
.snippet.clamp { max-height: 4.4em; overflow: hidden; -webkit-mask-image: linear-gradient(#000 70%, transparent); mask-image: linear-gradient(#000 70%, transparent); }
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
.alert-msg { font-weight: 700; margin: 2px 0; font-size: 13px; }
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
.head[hidden] { display: none; }
.foot { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 14px; margin-top: 4px; }
.foot > details { margin: 0; }
.foot > details[open] { flex-basis: 100%; }
section.card.folded { padding: 4px 10px; border-left-color: #e3e6eb; }
details.fold { margin: 0; }
details.fold > summary { color: #3d4757; }
details.fold > summary .fold-title { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
details.fold > summary .gist { color: #5b6472; }
.fold-body { padding-top: 4px; }
details.more > summary { font-size: 12px; }
.name { margin: 0 0 2px; }
.situation { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 4px 0; }
.situation .about { font-weight: 600; }
.verif { margin: 2px 0 4px; padding: 1px 8px; font-size: 12px; }
.acct-due { margin: 4px 0; padding: 4px 8px; }
.acct-autopay { margin: 2px 0; }
.best { margin: 2px 0 4px; }
.best.cited { background: #fffbe6; border-radius: 4px; }
.best-title { margin: 0; font-weight: 600; }
.md p, .md ul, .md ol { margin: 2px 0; }
.md .md-h { margin: 4px 0 2px; }
button.link { color: #1e48a8; text-decoration: underline; font-size: 12px; }
.ask { margin: 0 8px 8px; padding: 8px 10px; background: #fff; border: 1px solid #dde1e7; border-radius: 8px; }
.ask form { display: flex; gap: 6px; }
.ask input { flex: 1 1 auto; min-width: 0; font: inherit; padding: 4px 7px; border: 1px solid #8a94a6;
  border-radius: 6px; }
.ask .answer { margin: 6px 0 0; }
.ask .answer:empty { display: none; }
.ask .cites { font-size: 11px; color: #5b6472; }
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
      this._opened = new Set(); // passages the agent chose to read whole ("Show all")
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
    /** Ask the copilot a question about this conversation; resolves to the answer (or null). */
    async ask(question) {
      const q = str(question).trim();
      if (!q) {
        this._askInput.focus();
        return null;
      }
      if (!this._session) {
        this._askOut.replaceChildren(h("p", { class: "warn-text" }, "Start a session first."));
        return null;
      }
      if (this._askInput.value.trim() !== q) this._askInput.value = q;
      const gen = this._gen;
      this._askButton.disabled = true;
      this._askOut.replaceChildren(muted("Asking…"));
      try {
        const r = obj(await this._request("POST", this._path("/ask"), { question: q }));
        if (gen === this._gen) this._showAnswer(q, r);
        this._emit("copilot-answer", Object.assign({ question: q }, r), true);
        return r;
      } catch (err) {
        if (gen === this._gen) this._askOut.replaceChildren(h("p", { class: "warn-text" }, `Could not ask: ${err.message || "request failed"}`));
        return null;
      } finally {
        this._askButton.disabled = false;
        this.clearPreview("answer");
      }
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
      // A live call: the words as they are spoken (partials in italics), the last final a while.
      this._captionWho = h("strong", null);
      this._captionText = h("span", { class: "said" });
      this._captionEl = h("p", { class: "caption", "aria-live": "off", hidden: true }, this._captionWho, this._captionText);
      this._answerEl = h("div", { class: "answer-preview" });
      this._list = h("div", { class: "cards" });
      this._placeholder = h("p", { class: "placeholder" }, "No session yet.");
      // Ask the copilot: the agent's own question, answered from the customer's data and the
      // knowledge base (POST /ask), with the articles it comes from.
      this._askInput = h("input", {
        type: "text",
        name: "question",
        autocomplete: "off",
        maxlength: "500",
        placeholder: "Ask the copilot, e.g. why did autopay fail?",
        "aria-label": "Question for the copilot",
      });
      this._askButton = h("button", { type: "submit", "data-key": "ask" }, "Ask");
      this._askOut = h("div", { class: "answer", role: "status", "aria-live": "polite" });
      this._askEl = h(
        "div",
        { class: "ask", role: "region", "aria-label": "Ask the copilot" },
        h(
          "form",
          {
            autocomplete: "off",
            onsubmit: (e) => {
              e.preventDefault();
              this.ask(this._askInput.value);
            },
          },
          this._askInput,
          this._askButton
        ),
        this._answerEl,
        this._askOut
      );
      this._root.append(
        style,
        h("div", { class: "top" }, this._statusEl, this._meta),
        this._captionEl,
        this._errEl,
        this._list,
        this._placeholder,
        this._askEl
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
      this._askOut.replaceChildren();
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
      es.addEventListener("transcript", (ev) => gen === this._gen && this._onTranscript(ev.data));
      // Items sent without an event name: dispatch on their "type".
      es.addEventListener("message", (ev) => {
        if (gen !== this._gen) return;
        const msg = this._parse(ev.data);
        if (msg && msg.type === "panel_update") this._onUpdate(msg, ev.lastEventId);
        else if (msg && msg.type === "token") this._onToken(msg);
        else if (msg && msg.type === "transcript") this._onTranscript(msg);
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
      // The agent reads when the panel last changed; the version, path and latency stay one hover away.
      const clock = new Date().toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit" });
      this._meta.textContent = `${source === "llm" ? "Model updated" : "Updated"} ${clock}`;
      this._meta.title = [`version ${this._version}`, source && source !== "snapshot" ? `${source} path` : "", ms !== null && ms > 0 ? `${Math.round(ms)} ms` : ""]
        .filter(has)
        .join(" · ");
      this._emit("copilot-update", {
        version: this._version,
        source,
        event_id: eventId || null,
        latency_ms: ms,
        cards: changed,
        removed,
      });
    }

    _onTranscript(data) {
      const msg = this._parse(data);
      if (!msg || !has(msg.text)) return;
      const final = msg.final === true;
      this._captionWho.textContent = `${str(msg.speaker) === "agent" ? "Agent" : "Customer"}: `;
      this._captionText.textContent = final ? str(msg.text) : `${str(msg.text)}…`;
      this._captionEl.setAttribute("data-final", String(final));
      this._captionEl.hidden = false;
      clearTimeout(this._captionTimer);
      if (final) this._captionTimer = setTimeout(() => (this._captionEl.hidden = true), CAPTION_SHOWN_MS);
      this._emit("copilot-transcript", msg);
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

    _showAnswer(question, r) {
      const cites = arr(r.citations).filter(has);
      const status = str(r.status);
      const out = [h("p", { class: "note", "data-raw": true }, `You asked: “${question}”`)];
      if (has(r.answer)) out.push(h("div", { class: "md answer-text" }, markdown(r.answer, this._base || undefined)));
      else out.push(muted(has(r.reason) ? `No answer: ${str(r.reason)}.` : "No answer."));
      if (status === "offline" || status === "fallback")
        out.push(h("p", { class: "note" }, "No model answered: this is the best article passage."));
      if (cites.length) {
        const names = [...new Set(cites.map((x) => this._articleName(isObj(x) ? x.chunk_id || x.title : x)))];
        out.push(h("p", { class: "cites" }, `Sources: ${names.join("; ")}`));
      }
      out.push(h("div", { class: "actions" }, h("button", { type: "button", class: "link", onclick: () => this._askOut.replaceChildren() }, "Clear")));
      this._askOut.replaceChildren(...out);
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
          { class: "preview" },
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
          for (const other of DEPENDENTS[typeOf({ id })] || []) if (this._cards.has(other)) this._render(other);
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
      let flat = [nodes].flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false && k !== "");
      const fold = flat.length === 1 && flat[0] && flat[0].folded ? flat[0] : null;
      const prov = card ? provenance(c.provenance) : null;
      if (fold && prov) fold.lastChild.append(prov);
      else {
        // The disclosures a card ends with share one line (an open one takes the whole width).
        let n = flat.length;
        while (n > 0 && flat[n - 1] instanceof Node && flat[n - 1].tagName === "DETAILS") n -= 1;
        const tail = [...flat.slice(n), prov].filter(Boolean);
        flat = flat.slice(0, n);
        if (tail.length) flat.push(h("div", { class: "foot" }, tail));
        nodes = flat;
      }
      // Folded cards carry their title in the fold; the customer's name is the header's title.
      s.head.hidden = (Boolean(fold) || (type === "customer" && status !== "empty")) && !s.chips.childElementCount;
      s.section.classList.toggle("folded", Boolean(fold));
      s.body.replaceChildren();
      add(s.body, [nodes]);
      this._place(s, this._rankOf(c, type, d));
      if (type === "summary") {
        const prose = plain(d.prose);
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
      // Cards that show a little of this one: the header, the escalation line, article names.
      for (const other of DEPENDENTS[type] || []) if (other !== id && this._cards.has(other)) this._render(other);
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
      // The summary's prose, for a screen reader as it changes; the card shows it folded.
      const live = type === "summary" ? h("p", { class: "prose sr-only", "aria-live": "polite" }) : null;
      const body = h("div", { class: "body" });
      const head = h("div", { class: "head" }, title, chips);
      const section = h(
        "section",
        { role: "region", tabindex: "-1", "data-card": id, "data-type": type },
        head,
        live,
        body
      );
      const s = { section, head, title, chips, live, body, previewText: null, rank: null };
      this._place(s, rank(type));
      this._sections.set(id, s);
      this._placeholder.hidden = true;
      return s;
    }

    /** Where a card goes: the fixed order, a summary with a bot's handoff right under the
     * customer; cards of the same rank keep their arrival order. */
    _rankOf(c, type, d) {
      if (type === "summary" && isObj(d.handoff)) return rank("handoff");
      return rank(type);
    }
    _place(s, r) {
      if (s.rank === r && s.section.isConnected) return;
      s.rank = r;
      s.section.setAttribute("data-rank", String(r));
      let before = null;
      for (const other of this._list.children) {
        if (other !== s.section && Number(other.getAttribute("data-rank")) > r) {
          before = other;
          break;
        }
      }
      if (before !== s.section.nextSibling || !s.section.isConnected) this._list.insertBefore(s.section, before);
    }

    /** The header's second line: what this is about, how the customer feels, alerts. */
    _situation() {
      const intent = obj(obj(this._cards.get("intent")).data);
      const nba = obj(obj(this._cards.get("next_best_action")).data);
      const mood = obj(obj(this._cards.get("mood")).data);
      const topic = intent.topic || nba.intent || intent.intent;
      const label = obj(mood.current).label ?? mood.label;
      const alerts = [...this._cards.values()].filter((c) => typeOf(c) === "alert" && !isCleared(c));
      const bits = [
        has(topic) ? h("span", { class: "about" }, sentence(topic)) : null,
        has(label)
          ? chip(`Mood: ${str(label)}${has(mood.direction) && mood.direction !== "steady" ? `, ${str(mood.direction)}` : ""}`, label === "negative" ? "bad" : label === "positive" ? "ok" : "")
          : null,
        alerts.length ? chip(`${alerts.length} alert${alerts.length === 1 ? "" : "s"} above`, alerts.some((a) => obj(a.data).severity === "high") ? "bad" : "warn") : null,
      ].filter(Boolean);
      if (!bits.length) return null;
      return h("p", { class: "situation", "aria-label": "Intent, mood and alerts" }, bits.map((b, n) => [n ? " " : "", b]));
    }

    /** One line for the escalation alert, from the mood card's cues when they are there. */
    _escalationLine(d) {
      const mood = obj(obj(this._cards.get("mood")).data);
      const cues = arr(obj(mood.current).cues).filter(isObj);
      const risk = num(mood.risk ?? obj(mood.current).escalation_risk);
      const said = [];
      for (const q of cues) {
        const w = CUE_WORDS[str(q.kind)];
        if (!w || said.some((x) => x.startsWith(w))) continue;
        said.push(q.kind === "competitor" && has(q.evidence) ? `${w} (“${str(q.evidence)}”)` : w);
      }
      let line = "";
      if (said.length) line = `Escalation risk${risk !== null ? ` ${pct(risk)}` : " high"}: the customer ${said.join(", ")}.`;
      else {
        // Without cues: the message up to its cue list ("escalation risk 0.92; cues: ...").
        const m = /^(.*?)(?:;\s*cues:.*)?$/s.exec(str(d.message));
        line = sentence(m ? m[1] : str(d.message)).replace(/risk (0(?:\.\d+)?|1(?:\.0+)?)\b/i, (_x, v) => `risk ${pct(v)}`);
      }
      return line || "The customer may ask to escalate.";
    }

    /** An article's name for a chunk id the engine cites ("billing-autopay#2" -> its title). */
    _articleName(chunkId) {
      const id = str(chunkId);
      const k = obj(obj(this._cards.get("knowledge")).data);
      for (const x of arr(k.hits).filter(isObj)) {
        const cit = obj(x.citation);
        if (str(x.chunk_id) === id || str(cit.article_id) === id) return str(cit.title) || sentence(cit.article_id);
      }
      return sentence(id.replace(/#\d+$/, ""));
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

    /** A passage at three lines with a "Show all" toggle when long; the agent's choice survives
     * re-renders. Returns the passage and the toggle (null when short) for the caller to place. */
    _clamped(cardId, key, content, long) {
      const whole = !long || this._opened.has(key);
      const passage = h("div", { class: `snippet md${whole ? "" : " clamp"}` }, content);
      const toggle = long
        ? h(
            "button",
            {
              type: "button",
              class: "link",
              "data-key": `clamp-${key}`,
              "aria-expanded": String(whole),
              onclick: () => {
                if (whole) this._opened.delete(key);
                else this._opened.add(key);
                this._render(cardId);
              },
            },
            whole ? "Show less" : "Show all"
          )
        : null;
      return { passage, toggle };
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
      h("summary", null, "Sources"),
      h("p", null, `Based on ${groups.map(([label, ids]) => `${ids.length} ${label}`).join(", ")}:`),
      groups.map(([label, ids]) => h("p", null, `${label}: `, ids.map((i, n) => [n ? ", " : "", h("code", null, str(i))])))
    );
  }

  const SYSTEM_NAMES = { crm: "CRM", billing: "Billing", orders: "Orders", kb: "Knowledge base", identity: "Identity" };
  const OUTCOME_WORDS = { ok: "", cached: "", hit: "", empty: "nothing on file", skipped: "skipped", error: "failed", timeout: "did not answer", invalid: "refused the request" };

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
        const outcome = (at > 0 ? text.slice(at + 1) : "").toLowerCase();
        const kind = /^(ok|cached|hit)$/.test(outcome) ? "ok" : /^(empty|skipped)?$/.test(outcome) ? "" : "bad";
        // "billing.get_customer_billing:ok" reads "Billing"; "crm.get_history:timeout" reads
        // "CRM history: did not answer". The raw call stays in the tooltip for whoever audits it.
        const dot = name.indexOf(".");
        const system = dot > 0 ? name.slice(0, dot) : name;
        const label = SYSTEM_NAMES[system] || humanize(system);
        const what = humanize((dot > 0 ? name.slice(dot + 1) : "").replace(/^get_/, "").replace(/^customer_/, "")).toLowerCase();
        const said = OUTCOME_WORDS[outcome] ?? humanize(outcome).toLowerCase();
        const head = what && what !== system.toLowerCase() ? `${label} ${what}` : label;
        return h("li", null, chip(`${head}${said ? `: ${said}` : ""}`, kind, text));
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
    const same = text.toLowerCase() === label.toLowerCase() || (st === "none" && /^not verified\b/i.test(text));
    const continues = !same && st === "verified" && /^verified\b/i.test(text);
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
      // "Verified" and "verified by a texted code in chat" read as one line: "✓ Verified by a texted code in chat".
      h(
        "span",
        { class: "badge" },
        mark ? h("span", { "aria-hidden": "true" }, `${mark} `) : null,
        continues ? text.charAt(0).toUpperCase() + text.slice(1) : label,
        // In the same run of text, so "(this conversation)" ends the line rather than taking one.
        continues && has(v.source) ? [" ", h("span", { class: "src" }, `(${str(v.source)})`)] : null
      ),
      text && !same && !continues ? h("span", { class: "verif-text" }, text) : null,
      has(v.source) && !continues ? h("span", { class: "src" }, `(${str(v.source)})`) : null
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
      if (status === "empty") return [muted(str(d.message) || "No customer identified yet."), verif, this._situation()];
      if (status === "pending" || (!has(d.name) && !has(d.customer_id) && arr(d.candidates).length)) {
        const cands = arr(d.candidates).filter(isObj);
        return [
          h("p", null, str(d.message) || "Confirming who this is…"),
          verif,
          this._situation(),
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
          fold("sources", "Systems consulted", sourceChips(d.sources)),
        ];
      }
      const accounts = arr(d.accounts).filter(isObj);
      const out = [
        h(
          "p",
          { class: "name" },
          h("span", { class: "big" }, str(d.name) || str(d.customer_id) || "Unknown customer"),
          has(d.tier) ? [" ", chip(sentence(d.tier), "info")] : null
        ),
        verif,
        this._situation(),
        accounts.map(accountLine),
      ];
      const degraded = arr(d.degraded).filter(has);
      if (degraded.length)
        out.push(h("div", { class: "box warn" }, h("strong", null, "Some systems did not answer: "), degraded.map(str).join("; ")));
      // The rest is one click away: ids, usage history, orders, purchases, the systems consulted.
      const more = [
        facts([
          ["Customer", str(d.customer_id)],
          ["Since", str(d.customer_since)],
          ["Matched by", arr(d.matched_by).map(humanize)],
        ]),
        accounts.map(accountMore),
      ];
      const open = arr(d.open_orders).map((o) => (isObj(o) ? str(o.order_number ?? o.order ?? o.id) : str(o)));
      if (open.filter(has).length) more.push(h("p", null, h("strong", null, "Open orders: "), open.filter(has).join(", ")));
      const purchases = arr(d.recent_purchases).filter(isObj);
      if (purchases.length)
        more.push(
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
      more.push(sourceChips(d.sources));
      out.push(fold("more", "Customer details, usage and sources", more));
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
            { class: "origin" },
            h("strong", null, "Came from: "),
            came,
            has(origin.at) ? h("span", { class: "note" }, ` · ${when(origin.at)}`) : null
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
      const gist = [
        has(origin.channel) ? `came from ${str(origin.channel)}` : "",
        entries.length ? `${entries.length} earlier contact${entries.length === 1 ? "" : "s"}` : "no earlier contacts",
      ].filter(has);
      return folded("Journey", gist.join(" · "), out);
    },

    summary(c, d) {
      const rest = [];
      if (has(d.prose)) rest.push(h("p", { class: "prose-text" }, str(d.prose)));
      if (!has(d.prose)) rest.push(muted(str(d.reason) || "Nothing to summarize yet."));
      if (has(d.prose) && d.prose_source === "llm") rest.push(h("p", { class: "note" }, "Written by the model"));
      // A handoff: who handed over, what the bot tried and left open, then what was already given.
      const [byBot, startedFrom, triedList, openList] = handoffParts(d.handoff);
      rest.push(
        startedFrom,
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
      if (words.length) rest.push(h("h4", null, "In the customer's words"), words.map((w) => h("blockquote", { "data-raw": true }, str(w))));
      rest.push(llmNote(d));
      if (byBot) return [byBot, triedList, openList, providedList(d.provided), fold("more", "More about this conversation", rest)];
      const given = providedList(d.provided);
      const gist = [humanize(d.reason_for_contact), str(d.steps)].filter(has).join(" · ");
      return folded("Summary", gist || (has(d.prose) ? "" : "nothing yet"), [given, rest]);
    },

    mood(c, d, status) {
      const cur = obj(d.current);
      const label = cur.label ?? d.label;
      if (!has(label) && status === "empty") return folded("Mood", "no customer turns yet", [muted("No customer turns yet.")]);
      const kind = label === "negative" ? "bad" : label === "positive" ? "ok" : "";
      const out = [
        h("p", null, chip(str(label) || "unknown", kind), has(d.direction) ? h("span", { class: "muted" }, ` · ${str(d.direction)}`) : ""),
        sparkline(d.trend),
      ];
      if (d.alert === true) out.push(h("p", { class: "warn-text" }, "Escalation risk is high: see the alert at the top."));
      if (has(d.reason)) out.push(h("blockquote", { "data-raw": true }, str(d.reason)));
      const risk = num(d.risk ?? cur.escalation_risk);
      if (risk !== null && risk > 0) out.push(h("p", { class: "note" }, `Escalation risk ${pct(risk)}`));
      return folded("Mood", [str(label) || "unknown", str(d.direction)].filter(has).join(", "), out);
    },

    intent(c, d, status) {
      if (!has(d.intent)) return folded("Intent", "not known yet", [muted(status === "empty" ? "No intent yet." : "Unknown intent.")]);
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
      return folded("Intent", humanize(d.topic || d.intent), out);
    },

    next_best_action(c, d, status) {
      const out = [];
      const esc = obj(d.escalation);
      const next = obj(d.next);
      const hasNext = has(next.title) || has(next.step);
      // The escalation playbook's next step; when it is this very step, a chip on it says so.
      // The why is said once, in the escalation alert at the top.
      const sameStep = hasNext && has(esc.step) && str(esc.step) === str(next.step);
      if ((has(esc.title) || has(esc.step)) && !sameStep)
        out.push(h("div", { class: "box bad" }, h("strong", null, "Escalation playbook next: "), str(esc.title) || humanize(esc.step)));
      if (hasNext) {
        out.push(h("p", { class: "big" }, str(next.title) || humanize(next.step), sameStep ? [" ", chip("escalation", "bad", "also the escalation playbook's next step")] : null));
        if (has(next.say)) out.push(h("p", { class: "say" }, str(next.say)));
        const waiting = arr(next.waiting_for).filter(has);
        if (waiting.length) out.push(h("p", { class: "warn-text" }, `Waiting for ${waiting.map(str).join(", ")}`));
      } else if (d.resolved === true) out.push(h("p", null, chip("resolved", "ok"), " Every step is done."));
      else if (arr(d.unresolved).length)
        out.push(h("p", { class: "warn-text" }, `Not resolved yet: ${arr(d.unresolved).map(str).join("; ")}`));
      if (has(d.rationale)) out.push(h("p", null, str(d.rationale)));
      const blocked = arr(d.blocked_by).filter(has);
      if (blocked.length) out.push(h("p", { class: "warn-text" }, `Waiting on: ${blocked.map(str).join(", ")}`));
      if (hasNext) {
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
                "link",
                () => this._act(c.id, [this._feedback(c, "dismissed")], "Dismissed."),
                { "aria-label": "Dismiss this suggestion" },
              ],
            ])
          );
        }
      }
      const steps = arr(d.steps).filter(isObj);
      const reason = has(d.reason) ? str(d.reason) : "";
      if (steps.length) {
        const marks = { done: "✓", next: "▶", open: "○", not_needed: "–" };
        const words = { done: "done", next: "next", open: "to do", not_needed: "not needed" };
        const count = has(d.count) ? str(d.count) : `${steps.filter((s) => s.status === "done").length} of ${steps.length} steps done`;
        out.push(
          h(
            "details",
            { "data-key": "steps" },
            // The count alone keeps the line short enough to share with "Sources"; which
            // playbook it is opens with the steps.
            h("summary", { title: has(d.playbook) ? `${str(d.playbook)}: ${count}` : null }, count),
            has(d.playbook) ? h("p", { class: "note" }, `Playbook: ${str(d.playbook)}`) : null,
            reason && !reason.endsWith(count) ? h("p", { class: "note" }, reason) : null,
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
      } else if (reason) out.push(h("p", { class: "muted" }, reason));
      out.push(llmNote(d));
      return out;
    },

    offer(c, d) {
      const offer = obj(d.offer);
      if (!has(offer.offer_id) && !has(offer.title)) {
        // Nothing to act on: one line, so the best article stays on the first screen.
        const why = has(d.held_back) ? `No offer now: ${str(d.held_back)}.` : "No offer right now.";
        return folded("Offer", has(d.held_back) ? `none now: ${str(d.held_back)}` : "none right now", [muted(why), llmNote(d)]);
      }
      const answered = obj(d.answered)[offer.offer_id];
      const why = str(offer.why) || str(d.why);
      const title = str(offer.title) || humanize(offer.offer_id);
      const price = obj(offer.price);
      const cost = num(price.amount) === null ? null : `${money(price.amount)}${price.per === "month" ? " a month" : ""}`;
      const out = [
        h(
          "p",
          null,
          h("span", { class: "big" }, title),
          cost ? [" ", h("strong", { class: "price", "data-field": "price" }, cost)] : null,
          has(offer.kind) ? [" ", chip(humanize(offer.kind), "info")] : null
        ),
      ];
      if (has(d.pitch)) out.push(h("p", { class: "say" }, str(d.pitch)));
      if (why) out.push(h("p", { class: "muted why" }, `Why: ${why}`));
      const note = this._doneNote(c);
      if (answered) out.push(h("p", null, chip(`Customer ${answered === "accepted" ? "accepted" : "declined"}`, answered === "accepted" ? "ok" : "")));
      else if (note) out.push(h("p", { class: "note" }, note));
      else
        out.push(
          this._buttons(c, [
            ["Customer accepted", "accept", "primary", () => this._answerOffer(c, "accepted"), { "aria-label": `Customer accepted: ${title}` }],
            ["Customer declined", "dismiss", null, () => this._answerOffer(c, "dismissed"), { "aria-label": `Customer declined: ${title}` }],
          ])
        );
      out.push(llmNote(d));
      return out;
    },

    knowledge(c, d, status) {
      const raw = arr(d.hits).length ? arr(d.hits) : arr(d.results);
      const cited = new Set(arr(d.cited).map(str));
      const hits = raw.filter(isObj).map((x) => Object.assign({}, x, obj(x.citation)));
      const base = this._base || undefined;
      const out = [];
      if (!hits.length) {
        out.push(muted(status === "empty" || !has(d.status) ? "No article found yet." : "No article matches this question."));
        out.push(llmNote(d));
        return out;
      }
      const conf = num(d.confidence);
      const weak = d.status === "below_floor";
      const titleOf = (x, n) => [str(x.title) || humanize(x.article_id) || `Article ${n + 1}`, str(x.section)].filter(has).join(" — ");
      const link = (x, n) => {
        const href = safeHref(x.url, base);
        return href
          ? h("a", { href, target: "_blank", rel: "noopener noreferrer", "data-key": `hit-${n}` }, titleOf(x, n), srOnly(" (opens in a new tab)"))
          : h("strong", null, titleOf(x, n));
      };
      const isCited = (x) => cited.has(str(x.chunk_id)) || cited.has(str(x.article_id));
      const best = hits[0];
      const clamp = has(best.snippet) ? this._clamped(c.id, str(best.chunk_id), markdown(best.snippet, base), str(best.snippet).length > CLAMP_CHARS) : null;
      out.push(
        h(
          "div",
          { class: `best${isCited(best) ? " cited" : ""}`, "data-best": "true" },
          h("p", { class: "best-title" }, link(best, 0)),
          h(
            "p",
            { class: "note" },
            [weak ? "Not a confident match" : conf === null ? "" : conf >= 0.75 ? "Strong match" : conf >= 0.5 ? "Likely match" : "Possible match", conf !== null ? `${pct(conf)}` : "", isCited(best) ? "cited in the reply" : ""].filter(has).join(" · "),
            clamp ? [" · ", clamp.toggle] : null
          ),
          clamp ? clamp.passage : null
        )
      );
      const others = hits.slice(1);
      if (others.length || has(d.query))
        out.push(
          fold("more", others.length ? `${others.length} more article${others.length === 1 ? "" : "s"}` : "What was searched", [
            others.length
              ? h(
                  "ol",
                  { class: "hits" },
                  others.map((x, n) =>
                    h(
                      "li",
                      { class: isCited(x) ? "cited" : null },
                      link(x, n + 1),
                      isCited(x) ? [" ", chip("cited", "ok", "the reply cites this passage")] : null,
                      has(x.snippet) ? h("div", { class: "snippet md" }, markdown(x.snippet, base)) : null
                    )
                  )
                )
              : null,
            has(d.query) ? h("p", { class: "note", "data-raw": true }, `Searched: “${str(d.query)}”`) : null,
          ])
        );
      out.push(llmNote(d));
      return out;
    },

    reply_draft(c, d) {
      if (!has(d.text)) return folded("Reply draft", "none yet", [muted(str(d.reason) || "No draft yet.")]);
      const text = str(d.text);
      const out = [h("p", { class: "draft", "data-raw": true }, text)];
      const cites = arr(d.citations).filter(has);
      // Who wrote it matters to the agent: the model's words get a closer read than the script's.
      const by = d.source === "llm" ? "Written by the model" : d.source === "offline" ? "Filled in from the article's script" : "";
      const from = cites.length ? `${by ? "based on" : "Based on"}: ${cites.map((x) => this._articleName(x)).join("; ")}` : "";
      if (by || from) out.push(h("p", { class: "note", "data-field": "draft-source" }, [by, from].filter(has).join(", ")));
      out.push(
        this._buttons(c, [
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
          ["Copy", "copy", null, () => this._copy(text, c.id), { "aria-label": "Copy the reply draft" }],
        ])
      );
      return out;
    },

    alert(c, d) {
      const level = str(d.severity ?? d.level);
      const cands = arr(d.candidates).filter(has);
      const key = str(c.id).replace(/^alert:/, "");
      const repeat = key === "repeat";
      // The value and who gave it, unless the message already says so.
      const restate = (has(d.field) || has(d.value)) && !(has(d.value) && str(d.message).includes(str(d.value)));
      const message = key === "escalation" ? this._escalationLine(d) : str(d.message) || humanize(d.kind) || "Attention";
      return [
        // role=alert: a screen reader announces the message when the alert appears.
        h("p", { class: "alert-msg", role: "alert", "data-level": level || null }, message),
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
        h("p", null, h("span", { class: "big" }, sentence(d.kind) || "Action"), has(d.target) ? ` · ${str(d.target)}` : "", " ", st ? chip(st, kind) : null),
      ];
      // "step waive-fee: Waive the late fee" (the playbook's words for its log) -> the step's title.
      const step = /^step\s+[\w.-]+:\s*(.+)$/i.exec(str(d.why));
      if (has(d.why)) out.push(h("p", { class: "muted" }, step ? `Why: the playbook's step “${step[1]}”` : `Why: ${str(d.why)}`));
      out.push(...preview(d));
      out.push(
        facts([
          ["Decided by", str(d.decided_by)],
          ["At", when(d.decided_at)],
          ["Result", str(d.result)],
        ])
      );
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
      const req = obj(d.request);
      const reqRows = Object.entries(req).filter(([k, v]) => k !== "kind" && has(v));
      const more = facts([["Proposed by", str(d.proposed_by)], ...reqRows.map(([k, v]) => [sentence(k), str(v)])]);
      if (more) out.push(fold("request", "Request details", more));
      return out;
    },

    _generic(c, d) {
      const rows = Object.entries(d).filter(([, v]) => has(v) && !isObj(v) && !Array.isArray(v));
      return [facts(rows.map(([k, v]) => [humanize(k), str(v)])) || muted("Nothing to show.")];
    },
  };

  /** A disclosure, closed until the agent opens it (its open state survives re-renders). */
  function fold(key, title, content) {
    const kids = [content].flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false && k !== "");
    if (!kids.length) return null;
    return h("details", { class: "more", "data-key": key }, h("summary", null, title), kids);
  }
  /** A whole card folded to one line: "Mood · negative, worsening"; the card's title goes inside. */
  function folded(title, gist, content) {
    const out = h(
      "details",
      { class: "fold", "data-key": "fold" },
      h("summary", null, h("strong", { class: "fold-title" }, title), has(gist) ? h("span", { class: "gist" }, ` · ${str(gist)}`) : null),
      h("div", { class: "fold-body" }, content)
    );
    out.folded = true;
    return [out];
  }

  // What approving would change, as the system of record computed it before anything is written.
  function preview(d) {
    const out = [];
    if (has(d.preview)) out.push(h("p", { class: "say" }, `If approved: ${str(d.preview)}`));
    const changes = Object.entries(obj(d.changes)).filter(([, v]) => has(v));
    if (changes.length) out.push(facts(changes.map(([k, v]) => [sentence(k), str(v)])));
    if (has(d.blocked)) out.push(h("p", { class: "warn-text" }, `Cannot be done now: ${str(d.blocked)}`));
    return out;
  }

  /** The account on the first screen: what is owed and why autopay did not pay it. */
  function accountLine(a) {
    const due = isObj(a.past_due) ? a.past_due : null;
    const ap = obj(a.autopay);
    const parts = [];
    if (due)
      parts.push(
        h(
          "div",
          { class: "box bad acct-due" },
          h("strong", null, `Past due ${money(due.amount)}`),
          has(due.due_date) ? ` since ${str(due.due_date)}` : "",
          has(due.days_past_due) ? ` (${str(due.days_past_due)} days)` : "",
          num(due.late_fees) ? ` · late fees ${money(due.late_fees)}` : ""
        )
      );
    // Not enrolled is nothing to act on in the header; enrolled, failed or paused is.
    if (has(ap.status) && ap.status !== "none") {
      const bad = ap.status === "failed" || ap.card_expired === true;
      const reason = has(ap.last_failure_reason) ? humanize(ap.last_failure_reason) : "";
      parts.push(
        h(
          "p",
          { class: "acct-autopay" },
          "Autopay ",
          chip(str(ap.status), ap.status === "active" && !bad ? "ok" : bad ? "bad" : ""),
          has(ap.card) ? ` ${str(ap.card)}` : "",
          ap.card_expired === true && reason !== "card expired" ? [" ", chip("card expired", "bad")] : null,
          reason ? h("span", { class: "muted" }, ` · ${reason}`) : null
        )
      );
    }
    if (!parts.length && num(a.balance)) parts.push(h("p", null, `Balance ${money(a.balance)}`));
    return parts;
  }

  /** The account one click away: number, balance, usage by line. */
  function accountMore(a) {
    const parts = [
      h("p", null, h("strong", null, `Account ${str(a.account_number)}`), has(a.balance) ? h("span", null, ` · balance ${money(a.balance)}`) : null),
    ];
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

  // What the customer said that raised the risk, in words ("asked for a supervisor").
  const CUE_WORDS = {
    supervisor: "asked for a supervisor",
    competitor: "mentioned a competitor",
    cancel: "talked about cancelling",
    complaint: "wants to complain",
    repeat_myself: "has had to repeat themselves",
    frustration: "is frustrated",
    anger: "is angry",
    confusion: "is confused",
    urgency: "says it is urgent",
    all_caps: "is writing in capitals",
  };

  window.customElements.define("copilot-panel", CopilotPanel);
})();
