"""What Kefu's servers write to their logs: the conversation and the error, not the customer's words.

Rasa 3.6 logs structured events whose fields hold message texts, slot values and parse results,
and renders tracebacks with every frame's local variables, so a failing message ended up in the
log in full, with the tracker around it. ``quiet_customer_data`` rewrites Rasa's structlog
pipeline in place (loggers already bound keep the same list): tracebacks without locals, and,
unless ``security.log_customer_text`` is on, those fields replaced by their length.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import structlog
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer

# Fields of Rasa's structured log events that carry what customers wrote or what Kefu knows of
# them (Rasa's own list of anonymisable keys, plus the request bodies the SDK echoes).
CUSTOMER_FIELDS = frozenset(
    """
    text response_text user_text slot_values parse_data_text parse_data_entities prediction_events
    tracker_latest_message prefilled_slots message response slot_candidates rasa_event rasa_events
    tracker_states current_states old_states successes current_entity next_entity states entity
    token_text user_message json_message request_body events slots tracker
    """.split()
)


def redact_customer_fields(_: Any, __: str, event_dict: Dict[str, Any]) -> Dict[str, Any]:
    for key in CUSTOMER_FIELDS.intersection(event_dict):
        value = event_dict[key]
        size = len(value) if hasattr(value, "__len__") else 1
        event_dict[key] = f"[redacted: {size}]"
    return event_dict


def _without_locals(processor: Any) -> Any:
    if isinstance(processor, ExceptionRenderer):
        return ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    if isinstance(processor, structlog.dev.ConsoleRenderer):
        processor._exception_formatter = structlog.dev.plain_traceback  # rich's shows locals
    return processor


def quiet_customer_data(log_customer_text: bool) -> None:
    """Apply the logging rules to this process's structlog pipeline (idempotent)."""
    processors: List[Any] = structlog.get_config()["processors"]
    rewritten = [_without_locals(p) for p in processors if p is not redact_customer_fields]
    if not log_customer_text:
        rewritten.insert(0, redact_customer_fields)
    processors[:] = rewritten
    if not log_customer_text:
        # Sanic logs every request line; a GET's query string may carry a token or an email.
        logging.getLogger("sanic.access").setLevel(logging.WARNING)
