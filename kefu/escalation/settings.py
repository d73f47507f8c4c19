"""``escalation:`` in kefu.yml: triggers and their thresholds, working hours, ticket priority."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kefu.config import ConfigError, read_settings_file
from kefu.escalation.reasons import TRIGGERS, Reason

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTS = ("offer", "handoff")


@dataclass(frozen=True)
class Trigger:
    """One reason the policy brings in a person: what it does and its thresholds."""

    reason: Reason
    act: str  # "offer" (ask first) or "handoff" (a ticket at once)
    response: str = "utter_offer_human"  # what Kefu says when it offers
    params: Mapping[str, float] = field(default_factory=dict)

    def number(self, key: str) -> float:
        try:
            return float(self.params[key])
        except KeyError as error:
            raise ConfigError(f"'escalation.triggers.{self.reason.value}' needs '{key}'") from error


@dataclass(frozen=True)
class WorkingHours:
    timezone: ZoneInfo
    days: Tuple[int, ...]  # Monday is 0
    open: dt.time
    close: dt.time
    usual_first_reply_minutes: int
    agent_presence_minutes: int


@dataclass(frozen=True)
class PrioritySettings:
    request_type: Mapping[str, float]
    reason: Mapping[str, float]
    negative_mood: float
    order_value_per_100: float
    order_value_max: float
    waiting_per_10_minutes: float
    waiting_max: float
    labels: Mapping[str, float]  # label -> lowest priority with that label, e.g. urgent: 70


@dataclass(frozen=True)
class EscalationSettings:
    offer_human_for: Tuple[str, ...]
    triggers: Mapping[Reason, Trigger]
    offer_again_after: int
    hours: WorkingHours
    priority: PrioritySettings


def _section(raw: Mapping[str, Any], key: str, where: str) -> Dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"'{where}.{key}' must be a mapping (see the comments in kefu.yml)")
    return value


def _parse_trigger(reason: Reason, raw: Any) -> Trigger:
    where = f"escalation.triggers.{reason.value}"
    if not isinstance(raw, dict):
        raise ConfigError(f"'{where}' must be a mapping like {{act: offer}}")
    act = raw.get("act")
    if act not in ACTS:
        raise ConfigError(f"'{where}.act' must be offer or handoff, not {act!r}")
    params = {k: v for k, v in raw.items() if k not in ("act", "response")}
    for key, value in params.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"'{where}.{key}' must be a number, not {value!r}")
    return Trigger(reason, act, str(raw.get("response") or "utter_offer_human"), params)


def _parse_time(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as error:
        raise ConfigError(f"'{where}' must be a time like \"09:00\", not {value!r}") from error


def _parse_hours(raw: Dict[str, Any]) -> WorkingHours:
    try:
        zone = ZoneInfo(str(raw.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"'escalation.hours.timezone' is not a known time zone: {raw.get('timezone')!r}") from error
    days = raw.get("days") or []
    unknown = [d for d in days if d not in WEEKDAYS]
    if not days or unknown:
        raise ConfigError(f"'escalation.hours.days' lists days among {WEEKDAYS}; unknown: {unknown}")
    opening, closing = (
        _parse_time(raw.get("open"), "escalation.hours.open"),
        _parse_time(raw.get("close"), "escalation.hours.close"),
    )
    if closing <= opening:
        raise ConfigError("'escalation.hours.close' must be after 'open' (hours within one day)")
    return WorkingHours(
        timezone=zone,
        days=tuple(sorted(WEEKDAYS.index(d) for d in days)),
        open=opening,
        close=closing,
        usual_first_reply_minutes=int(raw.get("usual_first_reply_minutes", 10)),
        agent_presence_minutes=int(raw.get("agent_presence_minutes", 5)),
    )


def _parse_priority(raw: Dict[str, Any]) -> PrioritySettings:
    def number(key: str) -> float:
        try:
            return float(raw[key])
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"'escalation.priority.{key}' must be a number") from error

    def points(key: str) -> Dict[str, float]:
        return {str(k): float(v) for k, v in _section(raw, key, "escalation.priority").items()}

    return PrioritySettings(
        request_type=points("request_type"),
        reason=points("reason"),
        negative_mood=number("negative_mood"),
        order_value_per_100=number("order_value_per_100"),
        order_value_max=number("order_value_max"),
        waiting_per_10_minutes=number("waiting_per_10_minutes"),
        waiting_max=number("waiting_max"),
        labels=points("labels"),
    )


def parse_escalation(raw: Mapping[str, Any]) -> EscalationSettings:
    intents = raw.get("offer_human_for")
    if not isinstance(intents, list):
        raise ConfigError("'escalation.offer_human_for' must be a list of intent names")
    triggers_raw = _section(raw, "triggers", "escalation")
    unknown = set(triggers_raw) - {r.value for r in TRIGGERS}
    if unknown:
        raise ConfigError(f"'escalation.triggers' knows {[r.value for r in TRIGGERS]}, not {sorted(unknown)}")
    triggers = {Reason(name): _parse_trigger(Reason(name), value) for name, value in triggers_raw.items()}
    return EscalationSettings(
        offer_human_for=tuple(str(i) for i in intents),
        triggers=triggers,
        offer_again_after=int(raw.get("offer_again_after", 4)),
        hours=_parse_hours(_section(raw, "hours", "escalation")),
        priority=_parse_priority(_section(raw, "priority", "escalation")),
    )


def load_escalation_settings(path: Path | None = None) -> EscalationSettings:
    raw = read_settings_file(path)
    section = raw.get("escalation")
    if not isinstance(section, dict):
        raise ConfigError("kefu.yml needs an 'escalation:' section")
    return parse_escalation(section)


@lru_cache(maxsize=1)
def escalation_settings() -> EscalationSettings:
    """The process-wide escalation settings, read on first use."""
    return load_escalation_settings()
