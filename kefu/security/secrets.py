"""The secrets Kefu's services share: from the environment, else generated once into var/secrets/.

A deployment sets them in the environment (one value for every replica). On a developer's
machine ``make run`` generates each one on first use and keeps it in a file only its owner can
read, so the HTTP API is never started without a credential and nothing needs setting up.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from kefu.config import PROJECT_ROOT

SECRETS_DIR = PROJECT_ROOT / "var" / "secrets"
# Shorter secrets are refused: a guessable token is no better than none.
MIN_SECRET_CHARS = 24


class SecretError(ValueError):
    """A secret is set but unusable (too short)."""


@dataclass(frozen=True)
class SharedSecret:
    """One secret: its environment variable and the file that keeps a generated value."""

    env_var: str
    file_name: str

    def value(self, env: Mapping[str, str] | None = None, directory: Path | None = None) -> str:
        """The secret from the environment, else from its file, generated on first use."""
        env = os.environ if env is None else env
        configured = (env.get(self.env_var) or "").strip()
        if configured:
            if len(configured) < MIN_SECRET_CHARS:
                raise SecretError(f"{self.env_var} must be at least {MIN_SECRET_CHARS} characters long")
            return configured
        path = (directory or SECRETS_DIR) / self.file_name
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        return _generate(path)


def _generate(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting at once keep the first value, never two different ones.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


# The credential of Rasa's HTTP API (trackers, model, parse): Rasa's --auth-token.
API_TOKEN = SharedSecret("KEFU_API_TOKEN", "api_token")
# What the Rasa server sends and the action server checks on every webhook call.
ACTION_TOKEN = SharedSecret("KEFU_ACTION_TOKEN", "action_token")
# Keys hashing client addresses before they are counted (the store never sees an address).
SOURCE_KEY = SharedSecret("KEFU_SOURCE_KEY", "source_key")
# Redis of the production profile (trackers and locks shared by Rasa's workers).
REDIS_PASSWORD = SharedSecret("KEFU_REDIS_PASSWORD", "redis_password")
