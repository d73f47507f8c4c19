// The widget's link to Kefu: Rasa's Socket.IO channel (user_uttered / bot_uttered) with Kefu's
// session handshake, history and typing events. socket.io-client reconnects by itself; after
// every (re)connection the session is requested again so the socket rejoins its conversation.

import { io } from "socket.io-client";

const ACK_TIMEOUT_MS = 60000;

export class Connection {
  constructor(server, path, handlers) {
    this.handlers = handlers;
    this.sessionId = null;
    this.ready = false;
    this.socket = io(server, {
      path,
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 8000,
      // A WebSocket first: it stays on the Kefu worker it reached, where long-polling requests
      // would land on any worker of a production setup. Polling if the network refuses WebSockets.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      withCredentials: false,
    });
    this.socket.on("connect", () => {
      this.ready = false;
      this.socket.emit("session_request", { session_id: this.sessionId });
    });
    this.socket.on("session_confirm", (sessionId) => {
      const resumed = sessionId === this.sessionId;
      this.sessionId = sessionId;
      this.ready = true;
      handlers.onSession(sessionId, resumed);
    });
    this.socket.on("kefu_history", (history) => handlers.onHistory(history || {}));
    this.socket.on("bot_uttered", (message) => handlers.onMessage(message || {}));
    this.socket.on("kefu_typing", (state) => handlers.onTyping(Boolean(state && state.typing)));
    this.socket.on("disconnect", () => {
      this.ready = false;
      handlers.onStatus("reconnecting");
    });
    this.socket.on("connect_error", () => handlers.onStatus("reconnecting"));
  }

  start(sessionId) {
    this.sessionId = sessionId;
    this.handlers.onStatus("connecting");
    this.socket.connect();
  }

  /** Sends one message; resolves true once Kefu has handled it, false if that is not known. */
  send(text, metadata) {
    return new Promise((resolve) => {
      if (!this.ready) {
        resolve(false);
        return;
      }
      const payload = { message: text, session_id: this.sessionId, metadata };
      this.socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", payload, (error) => resolve(!error));
    });
  }
}
