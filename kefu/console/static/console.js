// Kefu's agent console: the inbox, a ticket with its transcript, and the review queue.
// Every text from the server is set with textContent: nothing a customer writes is ever HTML.

const state = { csrf: "", agent: null, ticketId: null, lastMessageId: 0, timers: [] };

function $(selector) {
  return document.querySelector(selector);
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function say(message) {
  $("#status").textContent = message;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  const answer = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try {
    data = await answer.json();
  } catch {
    data = {};
  }
  if (answer.status === 401 && path !== "api/login") {
    showLogin();
    throw new Error(data.error || "log in first");
  }
  if (!answer.ok) throw new Error(data.error || `the server answered ${answer.status}`);
  return data;
}

// Login and logout

function showLogin() {
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  state.agent = null;
  $("#login").hidden = false;
  $("#desk").hidden = true;
  $("#reviews-view").hidden = true;
  $("#tabs").hidden = true;
  $("#who").hidden = true;
  $('[data-testid="login-name"]').focus();
}

function startDesk(session) {
  state.csrf = session.csrf;
  state.agent = session.agent;
  $("#login").hidden = true;
  $("#tabs").hidden = false;
  $("#who").hidden = false;
  $('[data-testid="agent-name"]').textContent = session.agent.display_name;
  showTab("inbox");
  refreshInbox();
  state.timers.push(setInterval(refreshInbox, 5000));
  state.timers.push(setInterval(refreshTicket, 3000));
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = $('[data-testid="login-error"]');
  error.textContent = "";
  try {
    const session = await api("POST", "api/login", {
      name: form.elements.name.value.trim(),
      password: form.elements.password.value,
    });
    form.reset();
    startDesk(session);
  } catch (problem) {
    error.textContent = problem.message;
  }
}

async function logOut() {
  try {
    await api("POST", "api/logout", {});
  } catch (problem) {
    say(problem.message);
  }
  showLogin();
}

// Tabs

function showTab(name) {
  $("#desk").hidden = name !== "inbox";
  $("#reviews-view").hidden = name !== "reviews";
  $('[data-testid="tab-inbox"]').setAttribute("aria-pressed", String(name === "inbox"));
  $('[data-testid="tab-reviews"]').setAttribute("aria-pressed", String(name === "reviews"));
  if (name === "reviews") refreshReviews();
}

// The inbox

const MOODS = { negative: "☹ negative", neutral: "😐 neutral", positive: "☺ positive" };

function ticketRow(ticket) {
  const open = () => openTicket(ticket.id);
  const customer = ticket.customer ? ticket.customer.name || ticket.customer.id : "anonymous";
  return element(
    "li",
    {
      class: "card",
      tabindex: "0",
      role: "button",
      "data-testid": "ticket-row",
      "data-ticket-id": ticket.id,
      "aria-current": String(ticket.id === state.ticketId),
      "aria-label": `Ticket ${ticket.id}, ${ticket.priority_label} priority, ${ticket.reason_label}, ${customer}`,
      onclick: open,
      onkeydown: (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open();
        }
      },
    },
    element("span", { class: `badge ${ticket.priority_label}`, text: `${ticket.priority_label} ${ticket.priority}` }),
    element("strong", { text: `#${ticket.id} ${ticket.reason_label}` }),
    element("div", { text: ticket.headline }),
    element(
      "div",
      { class: "meta" },
      element("span", { text: customer }),
      element("span", { text: `waiting ${ticket.waiting_minutes} min` }),
      element("span", { text: ticket.language, lang: ticket.language, title: "language" }),
      element("span", { text: MOODS[ticket.mood] || ticket.mood }),
      element("span", { text: ticket.state + (ticket.assigned_to ? ` (${ticket.assigned_to})` : "") }),
    ),
  );
}

async function refreshInbox() {
  if (!state.agent) return;
  try {
    const data = await api("GET", `api/tickets?state=${encodeURIComponent($("#state-filter").value)}`);
    const list = $("#tickets");
    list.replaceChildren(...data.tickets.map(ticketRow));
    if (!data.tickets.length) list.append(element("li", { class: "card", text: "No tickets." }));
  } catch (problem) {
    say(problem.message);
  }
}

// One ticket

async function openTicket(id) {
  state.ticketId = id;
  state.lastMessageId = 0;
  await refreshTicket(true);
  refreshInbox();
}

function messageNode(message) {
  const who = { customer: "Customer", bot: "Kefu (bot)", system: "System" }[message.author] || message.agent_name || "Agent";
  return element(
    "div",
    { class: "message", "data-testid": "message", "data-author": message.author },
    element("span", { class: "who", text: `${who} · ${new Date(message.at).toLocaleTimeString()}` }),
    element("span", { text: message.text }),
  );
}

function details(ticket) {
  const words = ticket.customer_words;
  const english = words.english
    ? `${words.english}${words.machine_translated ? " (machine-translated)" : ""}`
    : "(same as the original)";
  const summary = ticket.summary || {};
  const rows = [
    ["Customer", ticket.customer ? `${ticket.customer.name} · ${ticket.customer.email}` : "not identified"],
    ["Their words", words.original],
    ["In English", english],
    ["Kefu tried", (summary.tried || []).join(", ") || "nothing yet"],
    ["Stuck at", summary.failed_at || "-"],
    ["Channel", ticket.channel || "-"],
    ["Note", ticket.note || "-"],
  ];
  const list = element("dl");
  for (const [term, value] of rows) list.append(element("dt", { text: term }), element("dd", { text: value }));
  return list;
}

function ordersTable(orders) {
  if (!orders.length) return element("p", { class: "muted", text: "No orders to show." });
  const body = element("tbody");
  for (const order of orders) {
    body.append(
      element(
        "tr",
        {},
        element("td", { text: order.id + (order.concerned ? " ★" : "") }),
        element("td", { text: order.status }),
        element("td", { text: order.total }),
        element("td", { text: order.items.map((item) => item.name).join(", ") }),
      ),
    );
  }
  const head = element("thead", {}, element("tr", {}, ...["Order", "Status", "Total", "Items"].map((t) => element("th", { text: t }))));
  return element("table", { "aria-label": "The customer's orders" }, head, body);
}

function ticketActions(ticket) {
  const note = element("textarea", { "data-testid": "handback-note", "aria-label": "Note for Kefu and the customer", hidden: true });
  const confirm = element("button", { type: "button", "data-testid": "handback-confirm", hidden: true, text: "Hand back with this note" });
  const post = async (action, body) => {
    try {
      await api("POST", `api/tickets/${ticket.id}/${action}`, body || {});
      say(`Ticket #${ticket.id}: ${action} done.`);
      await refreshTicket(true);
      refreshInbox();
    } catch (problem) {
      say(problem.message);
    }
  };
  confirm.addEventListener("click", () => post("handback", { note: note.value.trim() }));
  return element(
    "div",
    { class: "actions" },
    element("button", { type: "button", "data-testid": "take", text: "Take", onclick: () => post("take") }),
    element("button", {
      type: "button",
      "data-testid": "handback",
      text: "Hand back to Kefu…",
      onclick: () => {
        note.hidden = false;
        confirm.hidden = false;
        note.focus();
      },
    }),
    element("button", { type: "button", "data-testid": "resolve", text: "Resolve", onclick: () => post("resolve", { note: note.value.trim() }) }),
    note,
    confirm,
  );
}

function replyBox(ticket) {
  const text = element("textarea", { "data-testid": "reply-text", "aria-label": "Reply to the customer" });
  const status = element("span", { "data-testid": "reply-status", role: "status" });
  const send = async () => {
    const reply = text.value.trim();
    if (!reply) return;
    try {
      const data = await api("POST", `api/tickets/${ticket.id}/reply`, { text: reply });
      text.value = "";
      status.textContent =
        data.delivered === "live" ? "Delivered." : "Queued: the customer sees it with their next message.";
      await refreshTicket(false);
    } catch (problem) {
      status.textContent = problem.message;
    }
  };
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send();
  });
  return element(
    "div",
    {},
    text,
    element("div", { class: "actions" }, element("button", { type: "button", class: "primary", "data-testid": "reply-send", text: "Send", onclick: send }), status),
  );
}

function ticketMeta(ticket) {
  return [
    element("span", { "data-testid": "ticket-state", text: ticket.state }),
    element("span", { text: ticket.paused ? "conversation paused: you have it" : "Kefu is answering" }),
    element("span", { text: `priority ${ticket.priority} (${ticket.priority_label})` }),
    element("span", { text: ticket.assigned_to ? `with ${ticket.assigned_to}` : "not taken" }),
  ];
}

async function refreshTicket(rebuild) {
  if (!state.agent || state.ticketId === null) return;
  let data;
  try {
    data = await api("GET", `api/tickets/${state.ticketId}`);
  } catch (problem) {
    say(problem.message);
    return;
  }
  const view = $("#ticket");
  const { ticket, messages } = data;
  if (rebuild === true || !view.querySelector('[data-testid="transcript"]')) {
    view.hidden = false;
    view.replaceChildren(
      element("h2", { text: `Ticket #${ticket.id} · ${ticket.reason_label}` }),
      element("div", { class: "meta", "data-role": "ticket-meta" }),
      details(ticket),
      ordersTable(ticket.orders),
      element("div", { class: "transcript", "data-testid": "transcript", role: "log", "aria-live": "polite", "aria-label": "Transcript" }),
      replyBox(ticket),
      ticketActions(ticket),
    );
    state.lastMessageId = 0;
  }
  view.querySelector('[data-role="ticket-meta"]').replaceChildren(...ticketMeta(ticket));
  const transcript = view.querySelector('[data-testid="transcript"]');
  const fresh = messages.filter((message) => message.id > state.lastMessageId);
  for (const message of fresh) transcript.append(messageNode(message));
  if (fresh.length) {
    state.lastMessageId = fresh[fresh.length - 1].id;
    transcript.scrollTop = transcript.scrollHeight;
  }
}

// The review queue

function reviewRow(review) {
  const reason = element("input", { "data-testid": "review-reason", "aria-label": "Why it is declined (the customer is told)", hidden: true });
  const confirm = element("button", { type: "button", "data-testid": "review-decline-confirm", hidden: true, text: "Decline" });
  const stateNode = element("span", { "data-testid": "review-state", class: "badge", text: review.state });
  const decide = async (decision, body) => {
    try {
      const data = await api("POST", `api/reviews/${review.id}/${decision}`, body || {});
      stateNode.textContent = data.review.state;
      say(`Review #${review.id} ${data.review.state}.`);
    } catch (problem) {
      say(problem.message);
    }
  };
  confirm.addEventListener("click", () => decide("decline", { reason: reason.value.trim() }));
  const pending = review.state === "pending";
  return element(
    "li",
    { class: "card", "data-testid": "review-row", "data-review-id": review.id },
    stateNode,
    element("strong", { text: `#${review.id} ${review.details}` }),
    element(
      "div",
      { class: "meta" },
      element("span", { text: `${review.amount} to refund` }),
      element("span", { text: review.rule }),
      element("span", { text: review.customer.name || review.customer.id }),
      element("span", { text: new Date(review.created_at).toLocaleString() }),
    ),
    pending
      ? element(
          "div",
          { class: "actions" },
          element("button", { type: "button", class: "primary", "data-testid": "review-approve", text: "Approve", onclick: () => decide("approve") }),
          element("button", {
            type: "button",
            "data-testid": "review-decline",
            text: "Decline…",
            onclick: () => {
              reason.hidden = false;
              confirm.hidden = false;
              reason.focus();
            },
          }),
          reason,
          confirm,
        )
      : element("div", { class: "meta", text: `${review.state} by ${review.decided_by}${review.decision_reason ? `: ${review.decision_reason}` : ""}` }),
  );
}

async function refreshReviews() {
  try {
    const data = await api("GET", "api/reviews?state=pending");
    const list = $("#reviews");
    list.replaceChildren(...data.reviews.map(reviewRow));
    if (!data.reviews.length) list.append(element("li", { class: "card", text: "Nothing waiting for a decision." }));
  } catch (problem) {
    say(problem.message);
  }
}

// Start

async function start() {
  $("#login").addEventListener("submit", logIn);
  $('[data-testid="logout"]').addEventListener("click", logOut);
  $('[data-testid="tab-inbox"]').addEventListener("click", () => showTab("inbox"));
  $('[data-testid="tab-reviews"]').addEventListener("click", () => showTab("reviews"));
  $("#state-filter").addEventListener("change", refreshInbox);
  try {
    const answer = await fetch("api/session", { credentials: "same-origin" });
    if (answer.ok) startDesk(await answer.json());
    else showLogin();
  } catch {
    showLogin();
  }
}

start();
