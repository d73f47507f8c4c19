"""kefu/rasa_resilience.py on Rasa's own classes: apologies instead of silence, a breaker that recovers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from kefu import rasa_resilience
from kefu.config import PROJECT_ROOT
from kefu.evaluation.harness import free_port

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
rasa_resilience.apply()


def tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("conversation-1", list(events), DOMAIN.slots)


def unreachable(name: str) -> RemoteAction:
    return RemoteAction(name, EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))


def run(action: RemoteAction, state: DialogueStateTracker) -> list:
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, state, DOMAIN))


def test_an_unreachable_action_server_is_an_apology_in_the_customers_language() -> None:
    events = run(unreachable("action_order_status"), tracker(SlotSet("language", "zh"), UserUttered("订单呢")))
    apology, listen = events
    assert isinstance(apology, BotUttered) and "help@example-shop.com" in apology.text
    assert "暂时没有响应" in apology.text
    assert isinstance(listen, FollowupAction) and listen.action_name == "action_listen"


def test_one_apology_per_message() -> None:
    state = tracker(UserUttered("where is my order"))
    first = run(unreachable("validate_auth_form"), state)
    state.update(first[0])
    second = run(unreachable("action_ask_customer_id"), state)
    assert [type(e) for e in second] == [FollowupAction]


def test_slot_extraction_failures_stay_quiet() -> None:
    with pytest.raises(RasaException):
        run(unreachable("action_validate_slot_mappings"), tracker(UserUttered("hi")))


class StoppedLoop:
    """A processor whose prediction loop Rasa's circuit breaker stopped (no action_listen logged)."""

    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    max_number_of_predictions = 10

    def _should_handle_message(self, _: Any) -> bool:
        return True


def test_the_circuit_breaker_apologises_and_listens_so_the_next_message_starts_afresh() -> None:
    async def stopped(self: Any, output_channel: Any, state: DialogueStateTracker) -> None:
        for _ in range(10):
            state.update(ActionExecuted("action_order_status"))

    loop = rasa_resilience._recovering_loop(stopped)
    state = tracker(ActionExecuted("action_listen"), UserUttered("where is my order"))
    channel = CollectingOutputChannel()
    asyncio.run(loop(StoppedLoop(), channel, state))
    assert state.latest_action_name == "action_listen"
    assert "isn't responding" in channel.messages[0]["text"]
    # Rasa counts the actions since the last action_listen: the next message may act again.
    assert not MessageProcessor.is_action_limit_reached(StoppedLoop(), state, True)  # type: ignore[arg-type]
