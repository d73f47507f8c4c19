"""A conversation as the website widget shows it, read from Rasa's tracker.

The widget keeps a copy of the conversation for a quick first paint, but the tracker is the
truth: after a reload or a dropped connection the widget asks for these messages and shows
them, so nothing said meanwhile (an agent's reply, Kefu's answer to a message in flight) is
lost. Only what the customer saw is here: their messages, Kefu's, and the agents'.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from rasa.shared.core.events import BotUttered, Event, Restarted, UserUttered

from kefu.console.conversations import AGENT_MARK

# The widget shows at most this many of the latest messages.
HISTORY_LIMIT = 200
# The id the widget gives each message it sends (metadata), so after a reconnect it knows which
# of its unconfirmed messages Kefu already has and sends only the others.
CLIENT_MESSAGE_ID = "client_message_id"


def _bot_messages(event: BotUttered) -> List[Dict[str, Any]]:
    """Kefu's message as the Socket.IO channel sent it: paragraphs apart, buttons on the last."""
    agent = (event.metadata or {}).get(AGENT_MARK)
    parts = [part for part in (event.text or "").strip().split("\n\n") if part] or [""]
    messages: List[Dict[str, Any]] = []
    for part in parts:
        message: Dict[str, Any] = {"author": "agent" if agent else "bot", "text": part, "time": event.timestamp}
        if agent:
            message["agent"] = str(agent)
        messages.append(message)
    buttons = (event.data or {}).get("buttons") or []
    if buttons:
        messages[-1]["buttons"] = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons
        ]
    return [m for m in messages if m["text"] or m.get("buttons")]


def _customer_text(event: UserUttered, last_buttons: List[Dict[str, str]]) -> str:
    """What the customer saw themselves send: a clicked button's title, not its payload."""
    text = event.text or ""
    for button in last_buttons:
        if button["payload"] == text:
            return button["title"]
    return text


def widget_history(events: Iterable[Event], limit: int = HISTORY_LIMIT) -> List[Dict[str, Any]]:
    """The messages since the conversation last restarted, oldest first, at most ``limit``."""
    messages: List[Dict[str, Any]] = []
    last_buttons: List[Dict[str, str]] = []
    for event in events:
        if isinstance(event, Restarted):
            messages, last_buttons = [], []
        elif isinstance(event, UserUttered) and event.text is not None:
            message = {"author": "customer", "text": _customer_text(event, last_buttons), "time": event.timestamp}
            client_id = (event.metadata or {}).get(CLIENT_MESSAGE_ID)
            if isinstance(client_id, str) and 0 < len(client_id) <= 64:
                message["id"] = client_id
            messages.append(message)
            last_buttons = []
        elif isinstance(event, BotUttered):
            said = _bot_messages(event)
            messages.extend(said)
            last_buttons = said[-1].get("buttons", []) if said else last_buttons
    # Buttons answer the latest question only: older ones are shown as text.
    for message in messages[:-1]:
        message.pop("buttons", None)
    return messages[-limit:]
