"""Agents' logins: Argon2 password hashes, server-side sessions, CSRF tokens, throttled attempts.

The session cookie holds a random token; the store keeps only its SHA-256, with the CSRF token
every state-changing request must repeat in ``X-CSRF-Token`` and the expiry. Sessions live in
the store, so several Rasa replicas share them and logging out ends a session everywhere.
Failed logins are counted like failed identifications (per agent name and per client source),
in the store, and refuse further attempts for a cool-down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.store import Store
from kefu.store.records import AgentSession

COOKIE = "kefu_console"
MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()
# Compared against when the agent does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(Exception):
    """Wrong name or password (the message never says which)."""


class TooManyAttempts(Exception):
    """Too many failed logins for this agent or from this source: wait for the cool-down."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginLimits:
    per_agent: int = 5
    per_source: int = 20
    cool_down_minutes: int = 15
    session_hours: int = 12


class ConsoleAuth:
    def __init__(self, store: Store, limits: LoginLimits = LoginLimits()) -> None:
        self.store = store
        self.limits = limits

    def _keys(self, name: str, source: str) -> tuple[str, str]:
        return f"console:{name.lower()}", f"console-source:{source}"

    def _check_not_throttled(self, name: str, source: str, now: dt.datetime) -> None:
        since = now - dt.timedelta(minutes=self.limits.cool_down_minutes)
        agent_key, source_key = self._keys(name, source)
        if (
            self.store.failed_identifications(agent_key, since) >= self.limits.per_agent
            or self.store.failed_identifications(source_key, since) >= self.limits.per_source
        ):
            raise TooManyAttempts(f"too many failed logins: try again in {self.limits.cool_down_minutes} minutes")

    def login(self, name: str, password: str, source: str, now: dt.datetime) -> tuple[str, AgentSession]:
        """A new session's cookie token and the session, or LoginRefused / TooManyAttempts."""
        self._check_not_throttled(name, source, now)
        agent = self.store.get_agent(name)
        try:
            _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
            verified = agent is not None and agent.active
        except (VerificationError, InvalidHashError):
            verified = False
        if not verified:
            self.store.record_failed_identification(list(self._keys(name, source)), at=now)
            raise LoginRefused("wrong name or password")
        self.store.clear_failed_identifications(self._keys(name, source)[0])
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + dt.timedelta(hours=self.limits.session_hours)
        self.store.create_agent_session(agent.name, _token_hash(token), csrf, expires)
        session = self.store.agent_session(_token_hash(token), now)
        assert session is not None  # just created, for an active agent
        return token, session

    def session(self, token: str | None, now: dt.datetime) -> AgentSession | None:
        return self.store.agent_session(_token_hash(token), now) if token else None

    def logout(self, token: str | None) -> None:
        if token:
            self.store.end_agent_session(_token_hash(token))

    @staticmethod
    def csrf_matches(session: AgentSession, header: str | None) -> bool:
        return bool(header) and hmac.compare_digest(session.csrf_token, header or "")
