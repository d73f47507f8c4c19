"""Settings of Kefu's trust boundary: ``security:`` in kefu.yml, with environment overrides.

They say where the servers listen, which web origins may call them, what a customer message may
be, how the shop's site vouches for a logged-in customer, and what the logs may keep. Secrets
(API token, webhook secret, token keys) never live in the file: they come from the environment
or from ``var/secrets/`` (kefu/security/secrets.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Tuple

from kefu.config import ConfigError, read_settings_file

TOKEN_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512")


@dataclass(frozen=True)
class CustomerTokenSettings:
    """How the shop's site signs "this visitor is customer X" (a JWT in the message metadata)."""

    algorithms: Tuple[str, ...] = ("HS256",)
    claim: str = "sub"  # the claim that holds the store's customer id
    audience: str = "kefu"
    issuer: str = ""  # checked when set
    max_lifetime_minutes: int = 1440  # tokens must expire; a longer-lived one is refused


@dataclass(frozen=True)
class SecuritySettings:
    host: str = "127.0.0.1"
    cors_origins: Tuple[str, ...] = ()
    max_message_chars: int = 2000
    max_sender_chars: int = 128
    trust_forwarded_for: bool = False
    log_customer_text: bool = False
    parse_threads: int = 2
    customer_token: CustomerTokenSettings = CustomerTokenSettings()

    @property
    def listens_beyond_localhost(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")


ENV_SECURITY = {
    "KEFU_HOST": "host",
    "KEFU_CORS_ORIGINS": "cors_origins",
    "KEFU_MAX_MESSAGE_CHARS": "max_message_chars",
    "KEFU_TRUST_PROXY": "trust_forwarded_for",
    "KEFU_LOG_CUSTOMER_TEXT": "log_customer_text",
}


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}


def _as_int(value: Any, where: str, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"'{where}' must be a whole number, not {value!r}") from error
    if number < minimum:
        raise ConfigError(f"'{where}' must be at least {minimum}")
    return number


def _as_strings(value: Any, where: str) -> Tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"'{where}' must be a list")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _customer_token(raw: Mapping[str, Any]) -> CustomerTokenSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError("'security.customer_token' must be a mapping")
    unknown = set(raw) - set(CustomerTokenSettings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown keys in 'security.customer_token': {sorted(unknown)}")
    defaults = CustomerTokenSettings()
    algorithms = _as_strings(raw.get("algorithms", defaults.algorithms), "security.customer_token.algorithms")
    wrong = [a for a in algorithms if a not in TOKEN_ALGORITHMS]
    if wrong or not algorithms:
        raise ConfigError(f"'security.customer_token.algorithms' must be some of {TOKEN_ALGORITHMS}, not {wrong}")
    return CustomerTokenSettings(
        algorithms=algorithms,
        claim=str(raw.get("claim", defaults.claim)),
        audience=str(raw.get("audience", defaults.audience) or ""),
        issuer=str(raw.get("issuer", defaults.issuer) or ""),
        max_lifetime_minutes=_as_int(
            raw.get("max_lifetime_minutes", defaults.max_lifetime_minutes),
            "security.customer_token.max_lifetime_minutes",
            1,
        ),
    )


def parse_security_settings(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> SecuritySettings:
    env = os.environ if env is None else env
    section = dict(raw.get("security") or {})
    unknown = set(section) - set(SecuritySettings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown keys in 'security': {sorted(unknown)}")
    for variable, key in ENV_SECURITY.items():
        if env.get(variable):
            section[key] = env[variable]
    defaults = SecuritySettings()

    def number(key: str, minimum: int) -> int:
        return _as_int(section.get(key, getattr(defaults, key)), f"security.{key}", minimum)

    return SecuritySettings(
        host=str(section.get("host", defaults.host)),
        cors_origins=_as_strings(section.get("cors_origins", ()), "security.cors_origins"),
        max_message_chars=number("max_message_chars", 1),
        max_sender_chars=number("max_sender_chars", 8),
        trust_forwarded_for=_as_bool(section.get("trust_forwarded_for", defaults.trust_forwarded_for)),
        log_customer_text=_as_bool(section.get("log_customer_text", defaults.log_customer_text)),
        parse_threads=number("parse_threads", 1),
        customer_token=_customer_token(section.get("customer_token") or {}),
    )


def load_security_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> SecuritySettings:
    return parse_security_settings(read_settings_file(path), env)


@lru_cache(maxsize=1)
def security_settings() -> SecuritySettings:
    """The process-wide security settings, read on first use."""
    return load_security_settings()
