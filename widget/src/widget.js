// The chat itself: a launcher and a panel in a shadow root (the shop's styles cannot reach in,
// the widget's cannot leak out), the conversation, quick replies, typing and connection state.
// Every text is set with textContent or text nodes: nothing from the server or the customer is
// ever parsed as HTML.

import { Connection } from "./connection.js";
import { LANGUAGES, strings, supportedLanguage } from "./i18n.js";
import { WidgetStorage } from "./storage.js";
import { textNodes } from "./text.js";

const TYPING_SAFETY_MS = 45000;
const RESTART_PAYLOAD = "/restart";

function element(doc, tag, attributes = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

function chatIcon(doc) {
  const svg = doc.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const bubble = doc.createElementNS(SVG, "path");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  bubble.setAttribute("fill", "currentColor");
  svg.append(bubble);
  return svg;
}

function newMessageId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ChatWidget {
  constructor(config, host) {
    this.config = config;
    this.doc = host.ownerDocument;
    this.storage = new WidgetStorage(config.server, config.keepHours);
    const saved = this.storage.state;
    this.language = supportedLanguage(config.language) || saved.language || config.browserLanguage;
    this.customerToken = config.customerToken || null;
    this.isOpen = config.mode === "page" || Boolean(saved.open);
    this.unread = saved.unread || 0;
    this.typingTimer = null;
    this.root = host.attachShadow({ mode: "open" });
    this.build();
    this.renderAll();
    this.connection = new Connection(config.server, config.socketPath, {
      onSession: (id, resumed) => this.onSession(id, resumed),
      onHistory: (history) => this.onHistory(history),
      onMessage: (message) => this.onMessage(message),
      onTyping: (typing) => this.setTyping(typing),
      onStatus: (status) => this.setStatus(status),
    });
    this.connection.start(saved.sessionId);
  }

  // ---- building the frame ----

  build() {
    const doc = this.doc;
    const c = this.config;
    this.root.append(element(doc, "link", { rel: "stylesheet", href: c.stylesheet }));
    this.frame = element(doc, "div", { class: "kefu", "data-mode": c.mode, "data-position": c.position });
    for (const [name, value] of Object.entries(c.colours)) this.frame.style.setProperty(name, value);

    this.badge = element(doc, "span", { class: "kefu-badge", "data-testid": "kefu-unread", hidden: true });
    this.launcher = element(
      doc,
      "button",
      { class: "kefu-launcher", type: "button", "aria-controls": "kefu-panel", "data-testid": "kefu-launcher" },
      [chatIcon(doc), this.badge],
    );
    this.launcher.addEventListener("click", () => this.setOpen(!this.isOpen));

    this.title = element(doc, "h2", { class: "kefu-title", id: "kefu-title" });
    this.languageSelect = element(doc, "select", { class: "kefu-language", "data-testid": "kefu-language" });
    for (const [code, name] of Object.entries(LANGUAGES)) {
      this.languageSelect.append(element(doc, "option", { value: code, lang: code }, [name]));
    }
    this.languageSelect.addEventListener("change", () => this.setLanguage(this.languageSelect.value));
    this.languageLabel = element(doc, "span", { class: "kefu-visually-hidden" });
    this.endButton = element(doc, "button", { type: "button", class: "kefu-end", "data-testid": "kefu-end" });
    this.endButton.addEventListener("click", () => this.endChat());
    this.closeButton = element(doc, "button", { type: "button", class: "kefu-close", "data-testid": "kefu-close" });
    this.closeButton.append(element(doc, "span", { "aria-hidden": "true" }, ["×"]));
    this.closeButton.addEventListener("click", () => this.setOpen(false));
    const header = element(doc, "header", { class: "kefu-header" }, [
      this.title,
      element(doc, "label", { class: "kefu-language-label" }, [this.languageLabel, this.languageSelect]),
      this.endButton,
      this.closeButton,
    ]);

    this.status = element(doc, "div", { class: "kefu-status", role: "status", "data-testid": "kefu-status" });
    this.log = element(doc, "ol", { class: "kefu-log", role: "log", "aria-live": "polite", "data-testid": "kefu-log" });
    this.typing = element(doc, "div", { class: "kefu-typing", role: "status", "data-testid": "kefu-typing", hidden: true });
    this.replies = element(doc, "div", { class: "kefu-replies", role: "group", "data-testid": "kefu-replies" });

    this.input = element(doc, "textarea", {
      id: "kefu-input",
      class: "kefu-input",
      rows: 1,
      dir: "auto",
      maxlength: c.maxChars,
      "data-testid": "kefu-input",
    });
    this.inputLabel = element(doc, "label", { for: "kefu-input", class: "kefu-visually-hidden" });
    this.sendButton = element(doc, "button", { type: "submit", class: "kefu-send", "data-testid": "kefu-send" });
    this.compose = element(doc, "form", { class: "kefu-compose" }, [this.inputLabel, this.input, this.sendButton]);
    this.compose.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendTyped();
    });
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => this.fitInput());

    this.panel = element(
      doc,
      "section",
      { id: "kefu-panel", class: "kefu-panel", role: "dialog", "aria-labelledby": "kefu-title", "data-testid": "kefu-panel" },
      [header, this.status, this.log, this.typing, this.replies, this.compose],
    );
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.config.mode !== "page") {
        event.stopPropagation();
        this.setOpen(false);
        this.launcher.focus();
      }
    });
    if (c.mode !== "page") this.frame.append(this.launcher);
    else this.closeButton.hidden = true;
    this.frame.append(this.panel);
    this.root.append(this.frame);
  }

  // ---- showing state ----

  renderAll() {
    const t = strings(this.language);
    this.frame.setAttribute("lang", this.language);
    this.title.textContent = this.config.title || t.title;
    this.languageLabel.textContent = t.language;
    this.languageSelect.value = this.language;
    this.languageSelect.setAttribute("aria-label", t.language);
    this.endButton.textContent = t.endChat;
    this.closeButton.setAttribute("aria-label", t.close);
    this.log.setAttribute("aria-label", t.log);
    this.replies.setAttribute("aria-label", t.replies);
    this.input.placeholder = t.placeholder;
    this.inputLabel.textContent = t.inputLabel;
    this.sendButton.textContent = t.send;
    this.typing.textContent = t.typing;
    this.renderOpen();
    this.renderMessages();
    this.setStatus(this.statusName || "connecting");
  }

  renderOpen() {
    const t = strings(this.language);
    this.panel.hidden = !this.isOpen;
    this.launcher.setAttribute("aria-expanded", String(this.isOpen));
    this.launcher.setAttribute("aria-label", this.unread ? `${t.open} (${t.unread(this.unread)})` : t.open);
    this.badge.hidden = this.isOpen || !this.unread;
    this.badge.textContent = this.unread ? String(this.unread) : "";
  }

  renderMessages() {
    const state = this.storage.state;
    this.log.replaceChildren();
    if (state.ended) {
      const t = strings(this.language);
      this.log.append(element(this.doc, "li", { class: "kefu-notice", "data-testid": "kefu-ended" }, [t.ended]));
    }
    for (const message of state.messages) this.log.append(this.messageNode(message, false));
    for (const message of state.outbox) if (!message.hidden) this.log.append(this.messageNode(message, true));
    this.renderReplies();
    this.scrollToEnd();
  }

  messageNode(message, pending) {
    const t = strings(this.language);
    const author = message.author || "bot";
    const who = author === "agent" ? t.fromPerson(message.agent || "") : author === "customer" ? t.you : t.fromKefu;
    const bubble = element(this.doc, "p", { class: "kefu-bubble", dir: "auto" }, textNodes(this.doc, message.text || ""));
    const node = element(
      this.doc,
      "li",
      { class: `kefu-message kefu-message--${author}`, "data-author": author, "data-testid": "kefu-message" },
      [element(this.doc, "span", { class: "kefu-author" }, [who]), bubble],
    );
    if (pending) {
      node.dataset.pending = "true";
      if (!this.connection || !this.connection.ready) node.append(element(this.doc, "span", { class: "kefu-pending" }, [t.queued]));
    }
    return node;
  }

  renderReplies() {
    const messages = this.storage.state.messages;
    const last = messages[messages.length - 1];
    const buttons = last && last.author !== "customer" && !this.storage.state.outbox.length ? last.buttons || [] : [];
    this.replies.replaceChildren(
      ...buttons.map((button) => {
        const choice = element(this.doc, "button", { type: "button", class: "kefu-reply", dir: "auto", "data-testid": "kefu-reply" }, [
          String(button.title || button.payload || ""),
        ]);
        choice.addEventListener("click", () => this.send(String(button.payload || ""), String(button.title || "")));
        return choice;
      }),
    );
    this.replies.hidden = !buttons.length;
  }

  setStatus(name) {
    const t = strings(this.language);
    this.statusName = name;
    this.status.dataset.state = name;
    const text = { connecting: t.connecting, reconnecting: t.reconnecting, connected: "" }[name] || "";
    this.status.textContent = text;
    this.status.hidden = !text;
    if (this.storage.state.outbox.length) this.renderMessages();
  }

  setTyping(on) {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    // Never left spinning when the "done" event was lost with a dropped connection.
    if (on) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_SAFETY_MS);
    this.scrollToEnd();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  fitInput() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  // ---- what the customer does ----

  setOpen(open) {
    this.isOpen = open || this.config.mode === "page";
    if (this.isOpen) this.unread = 0;
    this.storage.update({ open: this.isOpen, unread: this.unread });
    this.renderOpen();
    if (this.isOpen) {
      this.scrollToEnd();
      this.input.focus();
    }
  }

  setLanguage(code) {
    const language = supportedLanguage(code);
    if (!language) return;
    this.language = language;
    this.storage.update({ language });
    this.renderAll();
  }

  identify(token) {
    this.customerToken = typeof token === "string" && token ? token : null;
  }

  onKey(event) {
    // Enter sends, Shift+Enter is a new line; never while an input method (pinyin, kana) is
    // still composing, where Enter picks the characters.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      this.sendTyped();
    }
  }

  sendTyped() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.fitInput();
    this.send(text, text);
  }

  send(text, shown) {
    const message = { id: newMessageId(), author: "customer", text: shown || text, payload: text, time: Date.now() / 1000 };
    this.storage.update({ outbox: [...this.storage.state.outbox, message], ended: false }, true);
    this.renderMessages();
    this.flush();
  }

  endChat() {
    // Kefu forgets it too (/restart clears the identification); sent like any message, so a
    // chat ended while offline still ends once the connection is back. Restarting twice is harmless.
    const restart = { id: newMessageId(), author: "customer", text: "", payload: RESTART_PAYLOAD, hidden: true };
    restart.time = Date.now() / 1000;
    this.storage.forgetConversation();
    this.storage.update({ sessionId: this.connection.sessionId, ended: true, outbox: [restart] });
    this.renderMessages();
    this.flush();
  }

  metadata(id) {
    const metadata = { client_message_id: id, language: this.language };
    if (this.customerToken) metadata.customer_token = this.customerToken;
    return metadata;
  }

  /** Sends what waits in the outbox, oldest first; what is not confirmed stays for the next try. */
  async flush() {
    if (this.flushing || !this.connection.ready) return;
    this.flushing = true;
    try {
      while (this.storage.state.outbox.length && this.connection.ready) {
        const message = this.storage.state.outbox[0];
        this.inFlight = message.id;
        const handled = await this.connection.send(message.payload || message.text, this.metadata(message.id));
        if (!handled) break;
        this.moveToConversation(message.id);
      }
    } finally {
      this.inFlight = null;
      this.flushing = false;
    }
  }

  moveToConversation(id) {
    const state = this.storage.state;
    const message = state.outbox.find((m) => m.id === id);
    if (!message) return;
    if (message.hidden) {
      this.storage.update({ outbox: state.outbox.filter((m) => m.id !== id) }, true);
      return;
    }
    const entry = { id: message.id, author: "customer", text: message.text, time: message.time };
    this.storage.update({ messages: [...state.messages, entry], outbox: state.outbox.filter((m) => m.id !== id) }, true);
    this.renderMessages();
  }

  // ---- what Kefu does ----

  onSession(sessionId, resumed) {
    this.storage.update({ sessionId });
    this.setStatus("connected");
    if (!resumed) this.flush();
    // A resumed session first gets its history (kefu_history), then the outbox is sent.
  }

  onHistory(history) {
    const messages = Array.isArray(history.messages) ? history.messages : [];
    if (history.complete && messages.length) {
      const delivered = new Set(messages.filter((m) => m.id).map((m) => m.id));
      const outbox = this.storage.state.outbox.filter((m) => !delivered.has(m.id));
      this.storage.update({ messages: messages.map((m) => ({ ...m })), outbox });
      this.renderMessages();
    }
    this.flush();
  }

  onMessage(data) {
    const text = typeof data.text === "string" ? data.text : "";
    const buttons = Array.isArray(data.quick_replies) ? data.quick_replies : Array.isArray(data.buttons) ? data.buttons : [];
    const agent = data.metadata && typeof data.metadata.agent === "string" ? data.metadata.agent : null;
    if (!text && !buttons.length) return;
    // A reply means the message in flight arrived: it goes into the conversation before it.
    if (this.inFlight) this.moveToConversation(this.inFlight);
    const message = { author: agent ? "agent" : "bot", text, time: Date.now() / 1000 };
    if (agent) message.agent = agent;
    if (buttons.length) message.buttons = buttons.map((b) => ({ title: String(b.title || ""), payload: String(b.payload || "") }));
    if (!this.isOpen) this.unread += 1;
    this.storage.update({ messages: [...this.storage.state.messages, message], unread: this.unread }, true);
    this.renderMessages();
    this.renderOpen();
  }
}
