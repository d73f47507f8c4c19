"""Rasa 3.6 server behaviour Kefu changes so that no customer waits on another or gets silence.

Applied when the Rasa server loads Kefu's model (with ``kefu.rasa_speedups``), three changes:

- **NLU off the event loop.** Rasa parses each message (tokenizer, e5, classifiers) on the
  server's only event loop, so one slow message stopped every other conversation. The parse now
  runs in a small thread pool (``security.parse_threads``) and the loop keeps serving.
- **An unreachable action server is an apology, not silence.** Rasa logged the failure and went
  on predicting, so the customer got no reply at all (six empty replies in the middle of a
  return). A failed call now says so in the customer's language, with the shop's contact
  address, once per message, and Kefu listens again.
- **The circuit breaker recovers.** When Rasa stops a loop of actions it did not log
  ``action_listen``, so every later message of that conversation tripped the breaker at once and
  the conversation stayed silent after the action server came back. Kefu apologises and listens.

Rasa 3.6.21 is the last open-source release, so these cannot come from upstream; each one is a
small wrapper around the method it changes, tested in tests/security/.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, FollowupAction, UserUttered
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

APOLOGY = "utter_service_unavailable"
# Called by Rasa's own slot extraction on every message; when it fails Rasa goes on without the
# slots it fills, and the action that answers the message apologises if it fails too.
QUIET_ACTIONS = frozenset({"action_validate_slot_mappings"})

_applied = False
_parse_pool: ThreadPoolExecutor | None = None


def apply() -> None:
    """Install the three changes once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    MessageProcessor.parse_message = _parse_off_loop(MessageProcessor.parse_message)  # type: ignore[method-assign]
    MessageProcessor._run_prediction_loop = _recovering_loop(MessageProcessor._run_prediction_loop)  # type: ignore[method-assign]
    RemoteAction.run = _apologising_run(RemoteAction.run)  # type: ignore[method-assign]


def _pool() -> ThreadPoolExecutor:
    global _parse_pool
    if _parse_pool is None:
        from kefu.security.settings import security_settings

        _parse_pool = ThreadPoolExecutor(security_settings().parse_threads, thread_name_prefix="kefu-nlu")
    return _parse_pool


def _parse_off_loop(original: Any) -> Any:
    @functools.wraps(original)
    async def parse_message(self: MessageProcessor, message: Any, tracker: Any = None, **kwargs: Any) -> Dict:
        if self.http_interpreter:
            return await original(self, message, tracker, **kwargs)
        only_output_properties = kwargs.get("only_output_properties", True)
        if tracker is None:
            from rasa.shared.core.trackers import DialogueStateTracker

            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        loop = asyncio.get_running_loop()
        parse = functools.partial(self._parse_message_with_graph, message, tracker, only_output_properties)
        parse_data = await loop.run_in_executor(_pool(), parse)
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    return parse_message


def _events_since_user(tracker: Any) -> List[Event]:
    since: List[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        since.append(event)
    return since


def _apologised(tracker: Any) -> bool:
    return any(
        isinstance(e, BotUttered) and (e.metadata or {}).get("utter_action") == APOLOGY
        for e in _events_since_user(tracker)
    )


async def _apology(nlg: Any, tracker: Any, output_channel: Any) -> BotUttered | None:
    from kefu.config import settings

    response = await nlg.generate(APOLOGY, tracker, output_channel.name(), contact_email=settings().contact_email)
    if not response:
        return None
    response["utter_action"] = APOLOGY
    return create_bot_utterance(response)


def _apologising_run(original: Any) -> Any:
    @functools.wraps(original)
    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            if self.name() in QUIET_ACTIONS:
                raise
            logger.error(
                "action %s of conversation %s failed (%s): the customer gets an apology",
                self.name(),
                tracker.sender_id,
                type(error).__name__,
            )
            # Rasa sends the returned BotUttered to the customer, as for any action's reply.
            apology = None if _apologised(tracker) else await _apology(nlg, tracker, output_channel)
            return [*([apology] if apology else []), FollowupAction(ACTION_LISTEN_NAME)]

    return run


def _listening(tracker: Any) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            return event.action_name in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME)
    return True


def _recovering_loop(original: Any) -> Any:
    @functools.wraps(original)
    async def run_prediction_loop(self: MessageProcessor, output_channel: Any, tracker: Any) -> None:
        await original(self, output_channel, tracker)
        if _listening(tracker) or not self._should_handle_message(tracker):
            return
        # The circuit breaker stopped a loop of actions: apologise and listen, so that the next
        # message starts a fresh count instead of tripping the breaker again.
        logger.warning("conversation %s: action loop stopped, Kefu apologises and listens", tracker.sender_id)
        if not _apologised(tracker):
            apology = await _apology(self.nlg, tracker, output_channel)
            if apology is not None:
                await output_channel.send_response(tracker.sender_id, apology.message())
                tracker.update(apology)
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))

    return run_prediction_loop
