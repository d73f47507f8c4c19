// What the widget keeps in the browser between page loads: the session id Kefu issued, a copy
// of the conversation for a quick first paint, the chosen language and whether the chat was
// open. Forgotten after `keepHours` without a message, and when the customer ends the chat, so
// a shared computer does not show the last customer's orders for long. Storage may be refused
// (private modes, blocked cookies): the widget then works for one page load.

const MAX_MESSAGES = 200;

export class WidgetStorage {
  constructor(server, keepHours, store = safeLocalStorage()) {
    this.key = `kefu-widget:${server}`;
    this.keepMs = Math.max(1, keepHours) * 3600 * 1000;
    this.store = store;
    this.state = this.read();
  }

  read() {
    const empty = { sessionId: null, messages: [], outbox: [], language: null, open: false, ended: false, touched: 0 };
    if (!this.store) return empty;
    try {
      const saved = JSON.parse(this.store.getItem(this.key) || "null");
      if (!saved || typeof saved !== "object") return empty;
      if (Date.now() - (saved.touched || 0) > this.keepMs) {
        this.store.removeItem(this.key);
        return { ...empty, language: saved.language || null };
      }
      return {
        ...empty,
        ...saved,
        messages: Array.isArray(saved.messages) ? saved.messages : [],
        outbox: Array.isArray(saved.outbox) ? saved.outbox : [],
      };
    } catch {
      return empty;
    }
  }

  update(changes, touch = false) {
    Object.assign(this.state, changes);
    if (touch) this.state.touched = Date.now();
    this.state.messages = this.state.messages.slice(-MAX_MESSAGES);
    if (!this.store) return;
    try {
      this.store.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // Full or refused: the conversation goes on, only the copy is not kept.
    }
  }

  forgetConversation() {
    this.update({ sessionId: null, messages: [], outbox: [] });
  }
}

function safeLocalStorage() {
  try {
    const store = window.localStorage;
    const probe = "kefu-widget:probe";
    store.setItem(probe, "1");
    store.removeItem(probe);
    return store;
  } catch {
    return null;
  }
}
