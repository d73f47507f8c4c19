"""A conversation as the escalation rules read it, built from Rasa's event dictionaries.

The same view serves the dialogue policy (Rasa's tracker, in the Rasa server) and the actions
(rasa_sdk's tracker, in the action server): both hand over their events as dictionaries, so the
rules are written once and cannot disagree about what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Tuple

# Actions that are Kefu's own bookkeeping, not an answer the customer saw.
SILENT_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start", None})
# Actions after which the customer has been offered or given a person: triggers count afresh.
ESCALATION_ACTIONS = frozenset({"action_offer_human", "action_handoff", "action_decline_handoff", "action_handback"})


@dataclass(frozen=True)
class UserTurn:
    """One customer message and what Kefu did about it."""

    text: str
    intent: str
    sentiment_label: str | None
    sentiment_score: float | None
    request_type: str | None
    order_ids: Tuple[str, ...]
    bot_actions: Tuple[str, ...]  # Kefu's actions after the message, bookkeeping left out


@dataclass(frozen=True)
class ConversationView:
    turns: Tuple[UserTurn, ...]
    # Index in ``turns`` of the first message after the last offer, handoff or hand-back.
    fresh_from: int
    # The last escalation action: "action_decline_handoff" means the customer said no to a person.
    last_escalation: str | None
    latest_action: str | None
    active_loop: str | None
    slots: Mapping[str, Any]

    @property
    def fresh_turns(self) -> Tuple[UserTurn, ...]:
        return self.turns[self.fresh_from :]

    @property
    def latest(self) -> UserTurn | None:
        return self.turns[-1] if self.turns else None

    @property
    def turn_is_open(self) -> bool:
        """The customer has just written and Kefu has not answered yet."""
        return self.latest_action == "action_listen" and bool(self.turns) and not self.turns[-1].bot_actions


def _parsed(event: Mapping[str, Any]) -> Dict[str, Any]:
    data = event.get("parse_data")
    return data if isinstance(data, dict) else {}


def _signal(parse_data: Mapping[str, Any], key: str) -> Dict[str, Any]:
    value = parse_data.get(key)
    return value if isinstance(value, dict) else {}


def _turn(event: Mapping[str, Any]) -> UserTurn:
    data = _parsed(event)
    sentiment = _signal(data, "sentiment")
    score = sentiment.get("score")
    entities = data.get("entities") or []
    return UserTurn(
        text=str(event.get("text") or ""),
        intent=str(_signal(data, "intent").get("name") or ""),
        sentiment_label=sentiment.get("label"),
        sentiment_score=float(score) if isinstance(score, (int, float)) else None,
        request_type=_signal(data, "request_type").get("label"),
        order_ids=tuple(str(e.get("value")) for e in entities if isinstance(e, dict) and e.get("entity") == "order_id"),
        bot_actions=(),
    )


def read_conversation(events: Iterable[Mapping[str, Any]]) -> ConversationView:
    """The view of ``events``: pass a tracker's applied events (restarts and rewinds already undone)."""
    turns: List[UserTurn] = []
    actions: List[str] = []
    fresh_from, last_escalation, latest_action, active_loop = 0, None, None, None
    slots: Dict[str, Any] = {}

    def close_turn() -> None:
        if turns and actions:
            last = turns[-1]
            turns[-1] = UserTurn(**{**last.__dict__, "bot_actions": last.bot_actions + tuple(actions)})
        actions.clear()

    for event in events:
        kind = event.get("event")
        if kind == "user":
            close_turn()
            turns.append(_turn(event))
        elif kind == "action":
            name = event.get("name")
            latest_action = name
            if name not in SILENT_ACTIONS:
                actions.append(str(name))
            if name in ESCALATION_ACTIONS:
                fresh_from, last_escalation = len(turns), name
        elif kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind == "active_loop":
            active_loop = event.get("name")
    close_turn()
    return ConversationView(tuple(turns), fresh_from, last_escalation, latest_action, active_loop, slots)
