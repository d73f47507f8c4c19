// Kefu's agent console: the inbox, one ticket with its transcript, and the review queue.
//
// Safety rule for this file: text from the server (and so from customers) is only ever set with
// textContent or appended as a text node. Nothing here parses HTML.
//
// Every URL is relative ("api/tickets", not "/api/tickets"): the page lives under
// /webhooks/console/ and must keep working wherever that prefix is mounted.

const INBOX_EVERY_MS = 5000;
const TICKET_EVERY_MS = 3000;
const REPLY_MAX_CHARS = 4000;
const NOTE_MAX_CHARS = 500;

const AUTHORS = { customer: "Customer", bot: "Kefu (bot)", system: "System" };
const MOODS = {
  negative: { icon: "☹", label: "negative" },
  neutral: { icon: "○", label: "neutral" },
  positive: { icon: "☺", label: "positive" },
};
const REVIEW_KINDS = { return: "Return", cancel: "Cancellation", exchange: "Exchange" };
const DONE = {
  take: "is yours: Kefu stays silent until you hand it back",
  handback: "was handed back to Kefu",
  resolve: "is resolved",
};

const state = {
  csrf: "",
  agent: null,
  generation: 0, // bumped on every login and logout: answers for an older session are dropped
  tab: "inbox",
  timers: {},
  latest: {}, // the newest request per kind of refresh: an older answer never overwrites a newer one
  connectionProblem: false,
  inboxSignature: "",
  knownTickets: null,
  ticketId: null,
  view: null, // the open ticket's DOM parts
  reviews: new Map(), // review id -> { review, node, parts, pending, busy }
};

class ApiError extends Error {
  constructor(message, status, quiet = false) {
    super(message);
    this.status = status;
    this.quiet = quiet;
  }
}

// Small DOM helpers

function $(selector, root = document) {
  return root.querySelector(selector);
}

function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/** Builds an element. `text` sets textContent; functions become listeners; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (typeof value === "function") node.addEventListener(key.replace(/^on/, ""), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child)); // a string is appended as a text node
  }
  return node;
}

function hiddenText(text) {
  return el("span", { class: "vh", text });
}

function languageTag(code) {
  return typeof code === "string" && /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(code) ? code : null;
}

function say(message, kind = "info") {
  const status = $("#status");
  status.textContent = message;
  status.dataset.kind = kind;
}

function clearStatus() {
  say("");
}

function setDisabled(button, disabled, why = "") {
  // aria-disabled keeps the button focusable (a disabled button would drop the keyboard focus).
  button.setAttribute("aria-disabled", String(disabled));
  if (disabled && why) button.title = why;
  else button.removeAttribute("title");
}

function isDisabled(button) {
  return button.getAttribute("aria-disabled") === "true";
}

// Formatting

function formatMinutes(minutes) {
  const value = Number(minutes);
  if (!Number.isFinite(value) || value < 0) return "–";
  if (value < 60) return `${Math.floor(value)} min`;
  if (value < 24 * 60) return `${Math.floor(value / 60)} h ${Math.floor(value % 60)} min`;
  return `${Math.floor(value / 1440)} d ${Math.floor((value % 1440) / 60)} h`;
}

function formatTime(iso, withDate = false) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso || "");
  const sameDay = when.toDateString() === new Date().toDateString();
  if (withDate || !sameDay) return when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function timeNode(iso, withDate = false) {
  const when = new Date(iso);
  return el("time", {
    datetime: iso,
    title: Number.isNaN(when.getTime()) ? null : when.toLocaleString(),
    text: formatTime(iso, withDate),
  });
}

function customerName(customer) {
  if (!customer) return "anonymous";
  return customer.name || customer.id || "anonymous";
}

function asList(value) {
  if (Array.isArray(value)) return value.filter((item) => item !== null && item !== undefined && item !== "").map(String);
  return value ? [String(value)] : [];
}

function isMine(ticket) {
  return Boolean(state.agent && ticket.assigned_to === state.agent.name);
}

// The API

/** Only the newest request of a kind may apply its answer. */
function nextRequest(kind) {
  state.latest[kind] = (state.latest[kind] || 0) + 1;
  return state.latest[kind];
}

function isLatest(kind, token) {
  return state.latest[kind] === token;
}

async function readJson(answer) {
  try {
    const data = await answer.json();
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

/**
 * One call to the console API. Adds the CSRF token and JSON headers to state changes; a failure
 * is shown in the status area and thrown as an ApiError; a 401 brings back the login form.
 */
async function api(method, path, body) {
  const generation = state.generation;
  const options = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    if (state.csrf) options.headers["X-CSRF-Token"] = state.csrf;
    options.body = JSON.stringify(body ?? {});
  }
  const isLogin = path === "api/login";
  let answer;
  try {
    answer = await fetch(path, options);
  } catch {
    const problem = new ApiError("Cannot reach Kefu. Check the connection; the console keeps trying.", 0);
    if (!isLogin) {
      state.connectionProblem = true;
      say(problem.message, "error");
    }
    throw problem;
  }
  const data = await readJson(answer);
  if (generation !== state.generation) throw new ApiError("answer for an older session", answer.status, true);
  if (answer.ok) {
    if (state.connectionProblem) {
      state.connectionProblem = false;
      clearStatus();
    }
    return data;
  }
  const message = data.error || `The server answered ${answer.status}.`;
  if (answer.status === 401 && !isLogin) {
    sessionEnded();
    throw new ApiError(message, 401, true);
  }
  if (!isLogin) say(message, "error");
  throw new ApiError(message, answer.status);
}

// Polling: each task runs again a while after its last run ended, so runs never pile up.

function repeat(name, everyMs, task) {
  const generation = state.generation;
  const tick = async () => {
    if (generation !== state.generation) return;
    await task();
    if (generation === state.generation) state.timers[name] = setTimeout(tick, everyMs);
  };
  state.timers[name] = setTimeout(tick, everyMs);
}

function stopPolling() {
  for (const timer of Object.values(state.timers)) clearTimeout(timer);
  state.timers = {};
}

function refreshAll() {
  if (!state.agent) return;
  refreshInbox();
  refreshReviews();
  refreshTicket();
}

// Login and logout

function showOnly(...ids) {
  for (const id of ["loading", "login", "inbox-view", "reviews-view"]) $(`#${id}`).hidden = !ids.includes(id);
}

function showLogin(message = "") {
  stopPolling();
  state.generation += 1;
  state.agent = null;
  state.csrf = "";
  clearDesk();
  clearStatus();
  $("#tabs").hidden = true;
  $("#who").hidden = true;
  showOnly("login");
  $("#login-error").textContent = message;
  $("#login-name").focus();
}

function sessionEnded() {
  if (state.agent) showLogin("Your session has ended. Please log in again.");
  else if ($("#login").hidden) showLogin();
}

function startDesk(session) {
  stopPolling();
  state.generation += 1;
  state.csrf = session.csrf || "";
  state.agent = session.agent || { name: "", display_name: "" };
  $('[data-testid="agent-name"]').textContent = state.agent.display_name || state.agent.name;
  $("#login-error").textContent = "";
  $("#tabs").hidden = false;
  $("#who").hidden = false;
  showTab("inbox");
  refreshReviews();
  repeat("inbox", INBOX_EVERY_MS, refreshInbox);
  repeat("reviews", INBOX_EVERY_MS, refreshReviews);
  repeat("ticket", TICKET_EVERY_MS, refreshTicket);
}

async function logIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("#login-error");
  const name = form.elements.name.value.trim();
  const password = form.elements.password.value;
  if (!name || !password) {
    error.textContent = "Give your name and your password.";
    (name ? form.elements.password : form.elements.name).focus();
    return;
  }
  error.textContent = "";
  const submit = $('[data-testid="login-submit"]');
  submit.disabled = true;
  try {
    const session = await api("POST", "api/login", { name, password });
    form.reset();
    startDesk(session);
  } catch (problem) {
    error.textContent = problem.message;
    form.elements.password.value = "";
    form.elements.password.focus();
  } finally {
    submit.disabled = false;
  }
}

async function logOut() {
  try {
    await api("POST", "api/logout", {});
  } catch (problem) {
    if (problem.quiet) return; // the session had already ended: the login form is showing
  }
  showLogin();
}

function clearDesk() {
  state.inboxSignature = "";
  state.knownTickets = null;
  state.ticketId = null;
  state.view = null;
  state.reviews.clear();
  $("#tickets").replaceChildren();
  $("#reviews").replaceChildren();
  $("#ticket").replaceChildren(placeholder("Choose a ticket in the inbox to see the conversation."));
  $('[data-role="ticket-count"]').replaceChildren();
  $('[data-role="review-count"]').replaceChildren();
  $('[data-testid="agent-name"]').textContent = "";
  document.title = "Kefu agent console";
}

function placeholder(text) {
  return el("p", { class: "placeholder", text });
}

// Tabs

const TABS = { inbox: ["tab-inbox", "inbox-view"], reviews: ["tab-reviews", "reviews-view"] };

function showTab(name, focus = false) {
  state.tab = name;
  for (const [tabName, [tabId, panelId]] of Object.entries(TABS)) {
    const selected = tabName === name;
    const tab = $(`#${tabId}`);
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${panelId}`).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  $("#loading").hidden = true;
  $("#login").hidden = true;
  if (name === "inbox") refreshInbox();
  else refreshReviews(true);
}

function onTabKey(event) {
  const names = Object.keys(TABS);
  const index = names.indexOf(state.tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: names.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  showTab(names[(moves[event.key] + names.length) % names.length], true);
}

function setCount(role, count, what) {
  const node = $(`[data-role="${role}"]`);
  if (!count) node.replaceChildren();
  else node.replaceChildren(String(count), hiddenText(` ${what}`));
}

// The inbox

async function refreshInbox() {
  if (!state.agent) return;
  const filter = $("#state-filter").value;
  const token = nextRequest("inbox");
  let data;
  try {
    data = await api("GET", `api/tickets?state=${encodeURIComponent(filter)}`);
  } catch {
    return;
  }
  if (isLatest("inbox", token)) renderInbox(Array.isArray(data.tickets) ? data.tickets : []);
}

function renderInbox(tickets) {
  const signature = JSON.stringify([tickets, state.ticketId]);
  if (signature === state.inboxSignature) return;
  state.inboxSignature = signature;
  announceNewTickets(tickets);

  const list = $("#tickets");
  const focusedId = focusedTicketRowId();
  list.replaceChildren(...tickets.map((ticket) => el("li", {}, ticketRow(ticket))));
  if (!tickets.length) list.append(el("li", { class: "empty", text: "No tickets here. Kefu is handling every conversation." }));
  if (focusedId !== null) ticketRowButton(focusedId)?.focus({ preventScroll: true });

  const open = tickets.filter((ticket) => ticket.state === "open").length;
  setCount("ticket-count", open, open === 1 ? "open ticket" : "open tickets");
  document.title = open ? `(${open}) Kefu agent console` : "Kefu agent console";
}

function announceNewTickets(tickets) {
  const ids = new Set(tickets.map((ticket) => ticket.id));
  const known = state.knownTickets;
  state.knownTickets = ids;
  if (!known) return;
  const fresh = tickets.filter((ticket) => !known.has(ticket.id) && ticket.state === "open");
  if (fresh.length === 1) say(`New ticket #${fresh[0].id}: ${fresh[0].reason_label || fresh[0].reason}.`);
  else if (fresh.length > 1) say(`${fresh.length} new tickets in the inbox.`);
}

function focusedTicketRowId() {
  const row = document.activeElement?.closest?.('[data-testid="ticket-row"]');
  return row ? row.dataset.ticketId : null;
}

function ticketRowButton(id) {
  return $$('[data-testid="ticket-row"]').find((row) => row.dataset.ticketId === String(id));
}

function priorityBadge(ticket) {
  const label = ticket.priority_label || "normal";
  return el("span", { class: `badge priority-${label}` }, hiddenText("priority "), `${label} ${ticket.priority ?? ""}`.trim());
}

function moodNode(mood) {
  const known = MOODS[mood] || { icon: "?", label: mood || "unknown" };
  return el(
    "span",
    { class: `mood mood-${known.label}` },
    el("span", { class: "icon", "aria-hidden": "true", text: known.icon }),
    hiddenText("mood "),
    known.label,
  );
}

function languageNode(code) {
  return el("span", {}, hiddenText("language "), el("span", { class: "lang", title: `Language: ${code || "unknown"}`, text: code || "?" }));
}

function ticketSummaryLabel(ticket) {
  const mood = (MOODS[ticket.mood] || { label: ticket.mood || "unknown" }).label;
  return [
    `Ticket ${ticket.id}`,
    `${ticket.priority_label} priority ${ticket.priority}`,
    `waiting ${formatMinutes(ticket.waiting_minutes)}`,
    ticket.reason_label,
    customerName(ticket.customer),
    `language ${ticket.language || "unknown"}`,
    `mood ${mood}`,
    `state ${ticket.state}${ticket.assigned_to ? `, with ${ticket.assigned_to}` : ""}`,
  ].join(", ") + (ticket.headline ? `: ${ticket.headline}` : "");
}

function ticketRow(ticket) {
  const selected = String(ticket.id) === String(state.ticketId);
  return el(
    "button",
    {
      type: "button",
      class: "ticket-row",
      "data-testid": "ticket-row",
      "data-ticket-id": ticket.id,
      "aria-current": selected ? "true" : null,
      "aria-label": ticketSummaryLabel(ticket),
      onclick: () => openTicket(ticket.id, true),
      onkeydown: moveBetweenRows,
    },
    el(
      "span",
      { class: "row-top" },
      priorityBadge(ticket),
      el("span", { class: "row-id", text: `#${ticket.id}` }),
      el("span", { class: "row-reason", text: ticket.reason_label || ticket.reason }),
      el("span", { class: "waiting" }, hiddenText("waiting "), formatMinutes(ticket.waiting_minutes)),
    ),
    el("span", { class: "headline", text: ticket.headline || "" }),
    el(
      "span",
      { class: "row-meta" },
      el("span", { class: ticket.customer ? "customer" : "customer anonymous", text: customerName(ticket.customer) }),
      languageNode(ticket.language),
      moodNode(ticket.mood),
      el("span", { class: `state state-${ticket.state}`, text: ticket.assigned_to ? `${ticket.state} · ${ticket.assigned_to}` : ticket.state }),
    ),
  );
}

function moveBetweenRows(event) {
  const rows = $$('[data-testid="ticket-row"]');
  const index = rows.indexOf(event.currentTarget);
  const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  rows[Math.max(0, Math.min(rows.length - 1, moves[event.key]))]?.focus();
}

function markSelectedRow(id) {
  for (const row of $$('[data-testid="ticket-row"]')) {
    if (row.dataset.ticketId === String(id)) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
  }
}

// One ticket

async function openTicket(id, focus = false) {
  if (state.tab !== "inbox") showTab("inbox");
  const switching = String(id) !== String(state.ticketId);
  state.ticketId = id;
  markSelectedRow(id);
  if (switching) {
    state.view = null;
    $("#ticket").replaceChildren(placeholder(`Loading ticket #${id}…`));
  }
  await refreshTicket();
  if (focus && state.view && String(state.view.id) === String(id)) {
    state.view.heading.focus({ preventScroll: true });
    state.view.root.scrollIntoView({ block: "nearest" });
  }
}

async function refreshTicket() {
  const id = state.ticketId;
  if (!state.agent || id === null) return;
  const token = nextRequest("ticket");
  let data;
  try {
    data = await api("GET", `api/tickets/${encodeURIComponent(id)}`);
  } catch (problem) {
    if (problem.status === 404 && isLatest("ticket", token) && id === state.ticketId) ticketGone(id, problem.message);
    return;
  }
  if (!isLatest("ticket", token) || id !== state.ticketId || !data.ticket) return;
  renderTicket(data.ticket, Array.isArray(data.messages) ? data.messages : []);
}

function ticketGone(id, message) {
  state.ticketId = null;
  state.view = null;
  $("#ticket").replaceChildren(placeholder(`Ticket #${id} cannot be shown: ${message}`));
}

function renderTicket(ticket, messages) {
  if (!state.view || String(state.view.id) !== String(ticket.id)) {
    state.view = buildTicketView(ticket, messages);
  }
  const view = state.view;
  const signature = JSON.stringify(ticket);
  if (signature !== view.signature) {
    view.signature = signature;
    view.ticket = ticket;
    view.facts.replaceChildren(...ticketFacts(ticket));
    view.info.replaceChildren(...ticketInfo(ticket));
    updateTicketActions(view);
  }
  appendMessages(view, messages);
}

function buildTicketView(ticket, messages) {
  const root = $("#ticket");
  const view = { id: ticket.id, ticket, signature: "", seen: new Set(), root, busy: false };
  view.heading = el("h2", { tabindex: "-1", id: "ticket-title", text: `Ticket #${ticket.id}` });
  view.facts = el("dl", { class: "facts", "aria-label": "About this ticket" });
  view.info = el("div", { class: "info" });
  view.transcript = el("div", {
    class: "transcript",
    "data-testid": "transcript",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Conversation with the customer",
    tabindex: "0",
  });
  view.actions = ticketActions(view);
  view.reply = replyBox(view);
  appendMessages(view, messages); // filled before it is shown: only later messages are announced

  root.setAttribute("aria-labelledby", "ticket-title");
  root.replaceChildren(
    el(
      "header",
      { class: "ticket-head" },
      el("button", { type: "button", class: "back link", text: "← Back to the inbox", onclick: backToInbox }),
      view.heading,
      view.facts,
      view.actions.node,
    ),
    view.info,
    el("section", { class: "conversation", "aria-labelledby": "transcript-title" }, el("h3", { id: "transcript-title", text: "Conversation" }), view.transcript),
    view.reply.node,
  );
  view.transcript.scrollTop = view.transcript.scrollHeight;
  return view;
}

function backToInbox() {
  const row = (state.ticketId === null ? null : ticketRowButton(state.ticketId)) || $('[data-testid="ticket-row"]');
  const target = row || $("#inbox-title");
  target.focus();
  target.scrollIntoView({ block: "nearest" });
}

function fact(term, ...value) {
  return [el("dt", { text: term }), el("dd", {}, ...value)];
}

function factGroup(term, ...value) {
  return el("div", { class: "fact" }, ...fact(term, ...value));
}

function ticketFacts(ticket) {
  const assigned = ticket.assigned_to ? (isMine(ticket) ? `you (${ticket.assigned_to})` : ticket.assigned_to) : "nobody yet";
  const facts = [
    factGroup("State", el("span", { class: `state state-${ticket.state}`, "data-testid": "ticket-state", text: ticket.state })),
    factGroup("Priority", priorityBadge(ticket)),
    factGroup("Assigned to", assigned),
    factGroup("Reason", ticket.reason_label || ticket.reason || "–"),
    factGroup("Waiting", formatMinutes(ticket.waiting_minutes)),
    factGroup("Mood", moodNode(ticket.mood)),
    factGroup("Language", ticket.language || "unknown"),
    factGroup("Channel", ticket.channel || "–"),
    factGroup("Opened", timeNode(ticket.created_at, true)),
  ];
  if (typeof ticket.paused === "boolean") {
    facts.push(factGroup("Kefu", ticket.paused ? "paused: an agent has the conversation" : "answering the customer"));
  }
  return facts;
}

function section(title, ...children) {
  return el("section", { class: "panel" }, el("h3", { text: title }), ...children);
}

function wideSection(title, ...children) {
  const node = section(title, ...children);
  node.classList.add("wide");
  return node;
}

function ticketInfo(ticket) {
  const parts = [summarySection(ticket.summary), wordsSection(ticket.customer_words), customerSection(ticket.customer, ticket.orders)];
  if (ticket.note) parts.push(wideSection("Hand-back note", el("p", { class: "prose", text: ticket.note })));
  return parts;
}

function summarySection(summary) {
  const facts = summary || {};
  const tried = asList(facts.tried);
  const intents = asList(facts.intents);
  const list = el("dl", { class: "pairs" });
  list.append(
    ...fact("Kefu tried", tried.length ? el("ul", { class: "plain" }, ...tried.map((item) => el("li", { text: item }))) : "nothing recorded"),
    ...fact("Got stuck at", facts.failed_at || "–"),
  );
  if (intents.length) list.append(...fact("Intents", el("ul", { class: "chips" }, ...intents.map((item) => el("li", { text: item })))));
  return section("What Kefu did", list);
}

function wordsSection(words) {
  if (!words) return section("The customer's words", el("p", { class: "muted", text: "Nothing recorded." }));
  const original = el("blockquote", { class: "prose", lang: languageTag(words.language), text: words.original || "" });
  const parts = [el("h4", {}, "Original", words.language ? ` (${words.language})` : ""), original];
  if (words.english) {
    parts.push(
      el("h4", {}, "English", words.machine_translated ? el("span", { class: "tag", text: "machine-translated" }) : null),
      el("blockquote", { class: "prose", lang: "en", text: words.english }),
    );
  } else if (!String(words.language || "").startsWith("en")) {
    parts.push(el("p", { class: "muted", text: "No English translation available." }));
  }
  return section("The customer's words", ...parts);
}

function customerSection(customer, orders) {
  const parts = [];
  if (customer) {
    const list = el("dl", { class: "pairs" });
    list.append(...fact("Name", customer.name || "–"), ...fact("Email", customer.email || "–"), ...fact("Customer id", customer.id || "–"));
    parts.push(list);
  } else {
    parts.push(el("p", { class: "muted", text: "Anonymous: the customer has not identified themselves." }));
  }
  parts.push(ordersTable(Array.isArray(orders) ? orders : []));
  return wideSection("Customer and orders", ...parts);
}

function ordersTable(orders) {
  if (!orders.length) return el("p", { class: "muted", text: "No orders to show." });
  const rows = orders.map((order) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, order.id, order.concerned ? el("span", { class: "tag", text: "this ticket" }) : null),
      el("td", { text: order.status }),
      el("td", { class: "number", text: order.total }),
      el("td", {}, el("ul", { class: "plain" }, ...(order.items || []).map((item) => el("li", { text: `${item.name} · ${item.price}` })))),
    ),
  );
  const head = el("tr", {}, ...["Order", "Status", "Total", "Items"].map((title) => el("th", { scope: "col", text: title })));
  return el("div", { class: "table-scroll" }, el("table", {}, el("caption", { class: "vh", text: "The customer's orders" }), el("thead", {}, head), el("tbody", {}, ...rows)));
}

// The transcript

function authorLabel(message) {
  if (message.author === "agent") return message.agent_name || "Agent";
  return AUTHORS[message.author] || message.author || "Unknown";
}

function messageKey(message) {
  return message.id ?? `${message.at}|${message.author}|${message.text}`;
}

function messageNode(message, language) {
  return el(
    "div",
    { class: "message", "data-testid": "message", "data-author": message.author },
    el(
      "p",
      { class: "who" },
      el("span", { class: "author", text: authorLabel(message) }),
      " · ",
      timeNode(message.at),
      message.delivered === "queued" ? el("span", { class: "tag", text: "queued until their next message" }) : null,
    ),
    el("p", { class: "text", lang: message.author === "customer" ? languageTag(language) : null, text: message.text ?? "" }),
  );
}

function appendMessages(view, messages, forceScroll = false) {
  const log = view.transcript;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const language = view.ticket.customer_words?.language || view.ticket.language;
  let added = 0;
  for (const message of messages) {
    const key = messageKey(message);
    if (view.seen.has(key)) continue;
    view.seen.add(key);
    $(".empty", log)?.remove();
    log.append(messageNode(message, language));
    added += 1;
  }
  if (!view.seen.size && !$(".empty", log)) log.append(el("p", { class: "empty", text: "No messages yet." }));
  if (added && (nearBottom || forceScroll)) log.scrollTop = log.scrollHeight;
}

// The reply box

function replyBox(view) {
  const text = el("textarea", {
    id: "reply-text",
    "data-testid": "reply-text",
    rows: "3",
    maxlength: String(REPLY_MAX_CHARS),
    "aria-describedby": "reply-hint",
  });
  const send = el("button", { type: "submit", class: "primary", "data-testid": "reply-send", text: "Send" });
  const status = el("p", { class: "reply-status", "data-testid": "reply-status", role: "status", "aria-live": "polite" });
  const node = el(
    "form",
    { class: "reply", "aria-label": "Reply to the customer", novalidate: true },
    el("label", { for: "reply-text", text: "Reply to the customer" }),
    text,
    el("div", { class: "actions" }, send, el("span", { id: "reply-hint", class: "hint", text: "Ctrl+Enter sends. The customer sees your display name." })),
    status,
  );
  const parts = { node, text, send, status };
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply(view, parts);
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      node.requestSubmit();
    }
  });
  return parts;
}

function deliveryText(delivered) {
  const at = formatTime(new Date().toISOString());
  if (delivered === "live") return `Delivered live at ${at}: the customer sees it now.`;
  return `Queued at ${at}: the customer's channel cannot be pushed to, so they get it with their next message.`;
}

async function sendReply(view, parts) {
  if (parts.busy) return;
  const reply = parts.text.value.trim();
  if (!reply) {
    parts.status.textContent = "Write a reply first.";
    parts.text.focus();
    return;
  }
  parts.busy = true;
  setDisabled(parts.send, true);
  parts.status.dataset.kind = "info";
  parts.status.textContent = "Sending…";
  try {
    const data = await api("POST", `api/tickets/${encodeURIComponent(view.id)}/reply`, { text: reply });
    parts.text.value = "";
    parts.status.dataset.kind = data.delivered === "live" ? "ok" : "queued";
    parts.status.textContent = deliveryText(data.delivered);
    if (data.message && state.view === view) appendMessages(view, [data.message], true);
    refreshTicket();
    refreshInbox();
  } catch (problem) {
    parts.status.dataset.kind = "error";
    parts.status.textContent = problem.quiet ? "" : `Not sent: ${problem.message}`;
  } finally {
    parts.busy = false;
    setDisabled(parts.send, false);
  }
}

// Take, hand back, resolve

function ticketActions(view) {
  const button = (testid, text, extra = {}) => el("button", { type: "button", "data-testid": testid, text, ...extra });
  const take = button("take", "Take");
  const handback = button("handback", "Hand back to Kefu…", { "aria-expanded": "false", "aria-controls": "handback-panel" });
  const resolve = button("resolve", "Resolve");
  const note = el("textarea", {
    id: "handback-note",
    "data-testid": "handback-note",
    rows: "2",
    maxlength: String(NOTE_MAX_CHARS),
    "aria-describedby": "handback-hint",
  });
  const confirm = button("handback-confirm", "Hand back with this note", { class: "primary" });
  const cancel = button("handback-cancel", "Cancel");
  const panel = el(
    "div",
    { id: "handback-panel", class: "inline-panel", role: "group", "aria-label": "Hand back to Kefu", hidden: true },
    el("label", { for: "handback-note", text: "Note for Kefu: what you did" }),
    note,
    el("p", { id: "handback-hint", class: "hint", text: "Kefu takes the conversation back and tells the customer this note. Resolve also keeps it. Esc cancels." }),
    el("div", { class: "actions" }, confirm, cancel),
  );
  const parts = { take, handback, resolve, note, confirm, panel };
  parts.node = el("div", { class: "ticket-actions" }, el("div", { class: "actions", role: "group", "aria-label": "Ticket actions" }, take, handback, resolve), panel);

  const closePanel = () => {
    panel.hidden = true;
    handback.setAttribute("aria-expanded", "false");
    handback.focus();
  };
  take.addEventListener("click", () => guarded(take, () => ticketAction(view, "take", {})));
  handback.addEventListener("click", () =>
    guarded(handback, () => {
      panel.hidden = false;
      handback.setAttribute("aria-expanded", "true");
      note.focus();
    }),
  );
  confirm.addEventListener("click", () => guarded(confirm, () => ticketAction(view, "handback", { note: note.value.trim() })));
  cancel.addEventListener("click", closePanel);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });
  resolve.addEventListener("click", () =>
    guarded(resolve, () => ticketAction(view, "resolve", { note: panel.hidden ? "" : note.value.trim() })),
  );
  return parts;
}

/** Runs a button's action unless it is marked disabled; then says why instead. */
function guarded(button, action) {
  if (isDisabled(button)) {
    if (button.title) say(button.title);
    return;
  }
  action();
}

function updateTicketActions(view) {
  const { take, handback, resolve, confirm } = view.actions;
  const ticket = view.ticket;
  const resolved = ticket.state === "resolved";
  const mine = ticket.state === "assigned" && isMine(ticket);
  const someoneElse = ticket.state === "assigned" && ticket.assigned_to && !isMine(ticket);
  take.textContent = someoneElse ? `Take over from ${ticket.assigned_to}` : "Take";
  setDisabled(take, view.busy || mine, mine ? "This ticket is already yours." : "");
  setDisabled(handback, view.busy || resolved, resolved ? "This ticket is resolved." : "");
  setDisabled(resolve, view.busy || resolved, resolved ? "This ticket is already resolved." : "");
  setDisabled(confirm, view.busy);
}

async function ticketAction(view, action, body) {
  if (view.busy) return;
  view.busy = true;
  updateTicketActions(view);
  try {
    await api("POST", `api/tickets/${encodeURIComponent(view.id)}/${action}`, body);
    say(`Ticket #${view.id} ${DONE[action]}.`, "ok");
    if (action !== "take") {
      view.actions.note.value = "";
      view.actions.panel.hidden = true;
      view.actions.handback.setAttribute("aria-expanded", "false");
    }
    view.signature = ""; // redraw the header even if the answer looks the same
    await refreshTicket();
    refreshInbox();
  } catch {
    // already shown in the status area
  } finally {
    view.busy = false;
    updateTicketActions(view);
  }
  if (action !== "take" && state.view === view && !view.root.contains(document.activeElement)) view.heading.focus();
}

// The review queue

async function refreshReviews(reset = false) {
  if (!state.agent) return;
  const token = nextRequest("reviews");
  let data;
  try {
    data = await api("GET", "api/reviews?state=pending");
  } catch {
    return;
  }
  if (isLatest("reviews", token)) renderReviews(Array.isArray(data.reviews) ? data.reviews : [], reset);
}

function renderReviews(reviews, reset) {
  const list = $("#reviews");
  const pendingIds = new Set(reviews.map((review) => String(review.id)));
  for (const [id, entry] of state.reviews) {
    // Rows decided here stay (showing the decision) until the tab is opened again; rows decided
    // elsewhere leave. A row being decided right now always stays.
    const decidedHere = !entry.pending && !reset;
    if (entry.busy || decidedHere || (entry.pending && pendingIds.has(id))) continue;
    entry.node.remove();
    state.reviews.delete(id);
  }
  for (const review of reviews) {
    if (state.reviews.has(String(review.id))) continue;
    const entry = reviewRow(review);
    state.reviews.set(String(review.id), entry);
    list.append(entry.node);
  }
  $(".empty", list)?.remove();
  if (!state.reviews.size) list.append(el("li", { class: "empty", text: "Nothing is waiting for a decision." }));
  setCount("review-count", reviews.length, "waiting for a decision");
}

function reviewRow(review) {
  const entry = { review, pending: review.state === "pending", busy: false };
  const id = review.id;
  const stateNode = el("span", { class: `state review-${review.state}`, "data-testid": "review-state", text: review.state });
  const error = el("p", { class: "error", role: "alert" });
  const outcome = el("p", { class: "outcome", text: outcomeText(review) });
  const facts = el("dl", { class: "pairs" });
  facts.append(
    ...fact("Order", review.order_id || "–"),
    ...fact("Amount", review.amount ?? "–"),
    ...fact("Why a person decides", review.rule || "–"),
    ...fact("Customer", customerName(review.customer)),
    ...fact("Asked", timeNode(review.created_at, true)),
  );
  if (review.ticket_id !== null && review.ticket_id !== undefined) {
    facts.append(...fact("Ticket", el("button", { type: "button", class: "link", text: `Open ticket #${review.ticket_id}`, onclick: () => openTicket(review.ticket_id, true) })));
  }
  const heading = el("h3", { id: `review-title-${id}` }, `#${id} ${REVIEW_KINDS[review.kind] || review.kind || "Change"}`, review.order_id ? ` · ${review.order_id}` : "");
  entry.controls = entry.pending ? reviewControls(entry) : null;
  entry.stateNode = stateNode;
  entry.error = error;
  entry.outcome = outcome;
  entry.node = el(
    "li",
    { class: "review", "data-testid": "review-row", "data-review-id": id, "aria-labelledby": `review-title-${id}`, tabindex: "-1" },
    el("div", { class: "review-head" }, heading, stateNode),
    el("p", { class: "prose details", text: review.details || "" }),
    facts,
    entry.controls ? entry.controls.node : outcome,
    error,
  );
  return entry;
}

function reviewControls(entry) {
  const id = entry.review.id;
  const approve = el("button", { type: "button", class: "primary", "data-testid": "review-approve", text: "Approve" });
  const decline = el("button", { type: "button", "data-testid": "review-decline", text: "Decline…", "aria-expanded": "false", "aria-controls": `decline-${id}` });
  const reason = el("textarea", { id: `reason-${id}`, "data-testid": "review-reason", rows: "2", maxlength: String(NOTE_MAX_CHARS), "aria-describedby": `reason-hint-${id}` });
  const confirm = el("button", { type: "button", class: "danger", "data-testid": "review-decline-confirm", text: "Decline with this reason" });
  const cancel = el("button", { type: "button", text: "Cancel" });
  const panel = el(
    "div",
    { id: `decline-${id}`, class: "inline-panel", role: "group", "aria-label": `Decline review ${id}`, hidden: true },
    el("label", { for: `reason-${id}`, text: "Why is it declined?" }),
    reason,
    el("p", { id: `reason-hint-${id}`, class: "hint", text: "The customer is told this reason. Esc cancels." }),
    el("div", { class: "actions" }, confirm, cancel),
  );
  const closePanel = () => {
    panel.hidden = true;
    decline.setAttribute("aria-expanded", "false");
    decline.focus();
  };
  approve.addEventListener("click", () => decideReview(entry, "approve", {}));
  decline.addEventListener("click", () => {
    panel.hidden = false;
    decline.setAttribute("aria-expanded", "true");
    reason.focus();
  });
  confirm.addEventListener("click", () => {
    const text = reason.value.trim();
    if (!text) {
      entry.error.textContent = "Type the reason first: the customer is told why.";
      reason.focus();
      return;
    }
    decideReview(entry, "decline", { reason: text });
  });
  cancel.addEventListener("click", closePanel);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });
  const buttons = [approve, decline, confirm];
  return { node: el("div", {}, el("div", { class: "actions" }, approve, decline), panel), buttons };
}

function outcomeText(review) {
  if (review.state === "pending") return "";
  const who = review.decided_by ? ` by ${review.decided_by}` : "";
  const why = review.decision_reason ? `: ${review.decision_reason}` : "";
  return `${review.state[0].toUpperCase()}${review.state.slice(1)}${who}${why}. The customer is told.`;
}

async function decideReview(entry, decision, body) {
  if (entry.busy || !entry.pending) return;
  entry.busy = true;
  entry.error.textContent = "";
  for (const button of entry.controls.buttons) setDisabled(button, true);
  try {
    const data = await api("POST", `api/reviews/${encodeURIComponent(entry.review.id)}/${decision}`, body);
    const review = data.review || { ...entry.review, state: decision === "approve" ? "approved" : "declined" };
    showDecision(entry, review);
    say(`Review #${review.id} ${review.state}.`, "ok");
  } catch (problem) {
    if (!problem.quiet) entry.error.textContent = problem.message;
    for (const button of entry.controls.buttons) setDisabled(button, false);
  } finally {
    entry.busy = false;
  }
}

function showDecision(entry, review) {
  const hadFocus = entry.node.contains(document.activeElement);
  entry.review = review;
  entry.pending = review.state === "pending";
  entry.stateNode.textContent = review.state;
  entry.stateNode.className = `state review-${review.state}`;
  entry.outcome.textContent = outcomeText(review);
  entry.controls.node.replaceWith(entry.outcome);
  if (hadFocus) entry.node.focus();
  const pending = [...state.reviews.values()].filter((other) => other.pending).length;
  setCount("review-count", pending, "waiting for a decision");
}

// Start

function wireEvents() {
  $("#login").addEventListener("submit", logIn);
  $('[data-testid="logout"]').addEventListener("click", logOut);
  for (const [name, [tabId]] of Object.entries(TABS)) {
    $(`#${tabId}`).addEventListener("click", () => showTab(name));
    $(`#${tabId}`).addEventListener("keydown", onTabKey);
  }
  $("#state-filter").addEventListener("change", () => {
    state.knownTickets = null;
    refreshInbox();
  });
  $("#reviews-refresh").addEventListener("click", () => refreshReviews(true));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refreshAll();
  });
}

async function start() {
  wireEvents();
  try {
    startDesk(await api("GET", "api/session"));
  } catch (problem) {
    if ($("#login").hidden) showLogin(problem.quiet ? "" : problem.message);
  }
}

start();
