"""What the console does to a live conversation, through Rasa's own machinery.

Agent replies, the hand-back and review outcomes reach the customer through the output channel
of the channel the customer last wrote on (as Rasa's ``/execute`` endpoint does with
``output_channel=latest``). A channel that cannot push (REST answers only when asked) gets the
messages queued in the store; the REST channel hands them out with its next reply.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet

from kefu.store import Store

logger = logging.getLogger(__name__)

AGENT_MARK = "agent"  # metadata key of a message written by a person, with their display name


def _socketio_agent_message(output: OutputChannel, recipient: str, text: str, agent_name: str) -> Any:
    # The widget shows these like Kefu's messages, marked as from a person.
    return output.send_custom_json(recipient, {"data": {"text": text, "metadata": {AGENT_MARK: agent_name}}})


def _plain_agent_message(output: OutputChannel, recipient: str, text: str, agent_name: str) -> Any:
    # Messengers show text only: the agent's name leads the message.
    return output.send_text_message(recipient, f"{agent_name}: {text}")


# How each channel shows a person's message; channels not named here get plain text.
AGENT_MESSAGE_FORMATS: Dict[str, Callable[[OutputChannel, str, str, str], Any]] = {
    "socketio": _socketio_agent_message,
}


async def blocking(function: Callable[..., Any], *args: Any) -> Any:
    """Run a store call off the event loop: other conversations go on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class Conversations:
    def __init__(self, agent: Agent, input_channels: List[InputChannel], store: Store) -> None:
        self.agent = agent
        self.input_channels = input_channels
        self.store = store

    async def _output(self, conversation_id: str) -> OutputChannel | None:
        """The output of the customer's latest channel, or None when it cannot push messages."""
        tracker = await self.agent.tracker_store.retrieve(conversation_id)
        name = tracker.get_latest_input_channel() if tracker else None
        for channel in self.input_channels:
            if channel.name() == name:
                output = channel.get_output_channel()
                if output is not None and not isinstance(output, CollectingOutputChannel):
                    return output
        return None

    async def send_agent_message(self, conversation_id: str, ticket_id: int, text: str, agent_name: str) -> str:
        """Send an agent's reply; "live" when pushed to the customer, "queued" when kept for them."""
        async with self.agent.lock_store.lock(conversation_id):
            output = await self._output(conversation_id)
            delivered = False
            if output is not None:
                try:
                    await AGENT_MESSAGE_FORMATS.get(output.name(), _plain_agent_message)(
                        output, conversation_id, text, agent_name
                    )
                    delivered = True
                except Exception as error:  # noqa: BLE001 - kept for the customer instead
                    logger.warning("agent reply to %s not pushed: %s", conversation_id, type(error).__name__)
            await blocking(self.store.add_ticket_message, ticket_id, "agent", text, agent_name, delivered)
            tracker = await self.agent.tracker_store.retrieve(conversation_id)
            if tracker is not None:
                # In the conversation's history too, so the widget's reload and later agents see it.
                tracker.update(BotUttered(text, metadata={AGENT_MARK: agent_name}))
                await self.agent.tracker_store.save(tracker)
        return "live" if delivered else "queued"

    async def pause(self, conversation_id: str) -> None:
        """The agent has the conversation now: Kefu stops answering (Rasa's ConversationPaused)."""
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self.agent.tracker_store.retrieve(conversation_id)
            if tracker is not None and not tracker.is_paused():
                tracker.update(ConversationPaused())
                await self.agent.tracker_store.save(tracker)

    async def run_action(
        self, conversation_id: str, ticket_id: int | None, action: str, slots: Dict[str, Any] | None = None
    ) -> str:
        """Run one of Kefu's actions in the conversation (hand-back, review outcome)."""
        async with self.agent.lock_store.lock(conversation_id):
            if slots:
                tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id)
                for name, value in slots.items():
                    tracker.update(SlotSet(name, value))
                await self.agent.tracker_store.save(tracker)
            output = await self._output(conversation_id)
            collector = CollectingOutputChannel() if output is None else None
            await self.agent.execute_action(conversation_id, action, output or collector, "console", 1.0)
            # Then Kefu listens, as after any action it ends a turn with: the customer's next
            # message is read in the usual state (rules expect the listen before a message).
            tracker = await self.agent.tracker_store.retrieve(conversation_id)
            if tracker is not None and tracker.latest_action_name != ACTION_LISTEN_NAME:
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
                await self.agent.tracker_store.save(tracker)
        if collector is None:
            return "live"
        for message in collector.messages:
            if ticket_id is not None and message.get("text"):
                await blocking(self.store.add_ticket_message, ticket_id, "bot", message["text"], None, False)
        return "queued"
