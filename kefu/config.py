"""Kefu settings, read once from ``kefu.yml`` (or the file named by ``KEFU_CONFIG``).

Environment variables override backend settings so that deployments change services
without editing files; business rules are only read from the file, where designers see them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "kefu.yml"


class ConfigError(ValueError):
    """The settings file is missing a value or holds one of the wrong kind."""


@dataclass(frozen=True)
class SeedSettings:
    reference_date: dt.date
    carriers: List[str]


# The store backend Kefu ships: SQLAlchemy on SQLite or PostgreSQL.
DEFAULT_STORE_BACKEND = "kefu.store.sql_store.SqlStore"


@dataclass(frozen=True)
class StoreSettings:
    url: str
    seed: SeedSettings
    # A kefu.store.base.Store subclass by module path, built with the URL (as Rasa names a
    # custom tracker store by its class path in endpoints.yml).
    backend: str = DEFAULT_STORE_BACKEND


@dataclass(frozen=True)
class ShopRules:
    """The business rules of ``rules:`` in kefu.yml (see the comments there)."""

    cancel_statuses: Tuple[str, ...]
    modify_statuses: Tuple[str, ...]
    return_statuses: Tuple[str, ...]
    exchange_statuses: Tuple[str, ...]
    cancel_reasons: Tuple[str, ...]
    items_modified_status: str
    return_refund_to: Tuple[str, ...]
    refund_review_above: Decimal
    refund_delay_gift_card: str
    refund_delay_other: str
    # The next return of a customer with this many returns or exchanges in the period is reviewed
    # by an agent; 0 turns the rule off.
    returns_review_count: int = 0
    returns_review_days: int = 30
    # The statuses Kefu's changes give an order (not configurable: the store's history reads them).
    cancelled_status: str = "cancelled"
    return_requested_status: str = "return requested"
    exchange_requested_status: str = "exchange requested"

    def statuses_allowing(self, change: str) -> Tuple[str, ...]:
        """The order statuses that allow a change kind (kefu/shop/changes), from the lists above."""
        try:
            return getattr(self, _STATUS_RULE_OF_CHANGE[change])
        except KeyError as error:
            raise ValueError(f"no status rule for the change {change!r}") from error

    @property
    def unsent_statuses(self) -> Tuple[str, ...]:
        """Orders the shop has not sent yet: still the customer's current order."""
        return tuple(dict.fromkeys((*self.cancel_statuses, *self.modify_statuses, self.items_modified_status)))


# Which list of ``rules:`` allows each change to an order.
_STATUS_RULE_OF_CHANGE = {
    "cancel": "cancel_statuses",
    "return": "return_statuses",
    "exchange": "exchange_statuses",
    "modify_items": "modify_statuses",
    "order_address": "modify_statuses",
    "order_payment": "modify_statuses",
}


def _parse_rules(raw: Dict[str, Any]) -> ShopRules:
    def statuses(key: str) -> Tuple[str, ...]:
        value = _require(raw, key, "rules")
        if not isinstance(value, list) or not value:
            raise ConfigError(f"'rules.{key}' must be a non-empty list of order statuses")
        return tuple(str(v) for v in value)

    refund_to = statuses("return_refund_to")
    unknown = set(refund_to) - {"original", "gift_card"}
    if unknown:
        raise ConfigError(f"'rules.return_refund_to' allows original and gift_card, not {sorted(unknown)}")
    try:
        review_above = Decimal(str(_require(raw, "refund_review_above", "rules")))
    except ArithmeticError as error:
        raise ConfigError("'rules.refund_review_above' must be an amount like 2000.00") from error
    delay = _require(raw, "refund_delay", "rules")
    returns_review = raw.get("returns_review_after") or {}
    if not isinstance(returns_review, dict):
        raise ConfigError("'rules.returns_review_after' must be a mapping like {count: 3, days: 30}")
    try:
        returns_count, returns_days = int(returns_review.get("count", 0)), int(returns_review.get("days", 30))
    except (TypeError, ValueError) as error:
        raise ConfigError("'rules.returns_review_after' needs whole numbers: {count: 3, days: 30}") from error
    if returns_count < 0 or returns_days < 1:
        raise ConfigError("'rules.returns_review_after': count 0 or more, days 1 or more")
    return ShopRules(
        cancel_statuses=statuses("cancel_statuses"),
        modify_statuses=statuses("modify_statuses"),
        return_statuses=statuses("return_statuses"),
        exchange_statuses=statuses("exchange_statuses"),
        cancel_reasons=statuses("cancel_reasons"),
        items_modified_status=str(_require(raw, "items_modified_status", "rules")),
        return_refund_to=refund_to,
        refund_review_above=review_above,
        refund_delay_gift_card=str(_require(delay, "gift_card", "rules.refund_delay")),
        refund_delay_other=str(_require(delay, "other", "rules.refund_delay")),
        returns_review_count=returns_count,
        returns_review_days=returns_days,
    )


# What a customer can tell Kefu to prove who they are in an anonymous chat.
IDENTITY_FACTORS = ("email", "full_name", "zip_code")


@dataclass(frozen=True)
class LockoutSettings:
    """Failed identifications counted in the store, across conversations (``authentication.lockout``)."""

    per_customer: int
    per_source: int
    cool_down_minutes: int


@dataclass(frozen=True)
class IdentificationSettings:
    # Each set is enough on its own; a set always has two factors or more, never an email alone.
    factor_sets: Tuple[Tuple[str, ...], ...]
    lockout: LockoutSettings


def _parse_identification(raw: Dict[str, Any]) -> IdentificationSettings:
    sets = _require(raw, "factors", "authentication")
    if not isinstance(sets, list) or not sets:
        raise ConfigError("'authentication.factors' must be a list of factor sets, e.g. [[email, zip_code]]")
    factor_sets = []
    for factor_set in sets:
        if not isinstance(factor_set, list) or len(set(factor_set)) < 2:
            raise ConfigError("each set in 'authentication.factors' needs two factors or more: one alone is not proof")
        unknown = set(factor_set) - set(IDENTITY_FACTORS)
        if unknown:
            raise ConfigError(f"'authentication.factors' knows {IDENTITY_FACTORS}, not {sorted(unknown)}")
        if "zip_code" not in factor_set and "email" not in factor_set:
            raise ConfigError("a set in 'authentication.factors' must name email or zip_code to find the customer")
        factor_sets.append(tuple(str(f) for f in factor_set))
    lockout = _require(raw, "lockout", "authentication")

    def count(key: str) -> int:
        value = int(_require(lockout, key, "authentication.lockout"))
        if value < 1:
            raise ConfigError(f"'authentication.lockout.{key}' must be at least 1")
        return value

    return IdentificationSettings(
        factor_sets=tuple(factor_sets),
        lockout=LockoutSettings(
            per_customer=count("per_customer"),
            per_source=count("per_source"),
            cool_down_minutes=count("cool_down_minutes"),
        ),
    )


@dataclass(frozen=True)
class Settings:
    store: StoreSettings
    max_auth_attempts: int
    identification: IdentificationSettings
    max_orders_listed: int
    contact_email: str
    rules: ShopRules
    # Intents that step out of a form instead of answering its question (``dialogue.digressions``).
    digressions: Tuple[str, ...] = ()


def _require(section: Dict[str, Any], key: str, where: str) -> Any:
    if key not in section:
        name = f"{where}.{key}" if where else key
        raise ConfigError(f"'{name}' is missing from the Kefu settings file")
    return section[key]


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise ConfigError(f"'{where}' must be a date like 2026-11-15, not {value!r}") from error


def _resolve_sqlite_path(url: str) -> str:
    """Make a relative SQLite path relative to the project, not to the caller's cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(PROJECT_ROOT / url[len(prefix) :])
    return url


def parse_settings(raw: Dict[str, Any], env: Dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    store_raw = _require(raw, "store", "")
    seed_raw = _require(store_raw, "seed", "store")
    url = env.get("KEFU_STORE_URL") or _require(store_raw, "url", "store")
    seed = SeedSettings(
        reference_date=_as_date(_require(seed_raw, "reference_date", "store.seed"), "store.seed.reference_date"),
        carriers=list(_require(seed_raw, "carriers", "store.seed")),
    )
    if not seed.carriers:
        raise ConfigError("'store.seed.carriers' needs at least one carrier")
    auth_raw = _require(raw, "authentication", "")
    orders_raw = _require(raw, "orders", "")
    max_attempts = int(_require(auth_raw, "max_attempts", "authentication"))
    if max_attempts < 1:
        raise ConfigError("'authentication.max_attempts' must be at least 1")
    return Settings(
        store=StoreSettings(
            url=_resolve_sqlite_path(url),
            seed=seed,
            backend=str(env.get("KEFU_STORE_BACKEND") or store_raw.get("backend") or DEFAULT_STORE_BACKEND),
        ),
        max_auth_attempts=max_attempts,
        identification=_parse_identification(auth_raw),
        max_orders_listed=int(_require(orders_raw, "max_listed", "orders")),
        contact_email=str(_require(_require(raw, "shop", ""), "contact_email", "shop")),
        rules=_parse_rules(_require(raw, "rules", "")),
        digressions=_parse_digressions(raw.get("dialogue") or {}),
    )


def _parse_digressions(dialogue: Dict[str, Any]) -> Tuple[str, ...]:
    value = dialogue.get("digressions", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("'dialogue.digressions' must be a list of intent names")
    return tuple(value)


def read_settings_file(path: Path | None = None) -> Dict[str, Any]:
    """The raw mapping of kefu.yml (or the file named by ``KEFU_CONFIG``); each library's
    loader parses its own section of it."""
    config_path = Path(path or os.environ.get("KEFU_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as error:
        raise ConfigError(f"Kefu settings file not found: {config_path}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path} must be a mapping of sections (store:, rules: ...)")
    return raw


def settings_version() -> Tuple[Any, ...]:
    """What the parsed sections of kefu.yml depend on: the file (path, size, modification time)
    and the KEFU_ environment. Loaders that run on every turn keep their result per version, so
    the file is read again only when it changes."""
    config_path = Path(os.environ.get("KEFU_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        stat = config_path.stat()
        file: Tuple[Any, ...] = (str(config_path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        file = (str(config_path), None, None)
    return file, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KEFU_")))


def load_settings(path: Path | None = None) -> Settings:
    return parse_settings(read_settings_file(path))


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
