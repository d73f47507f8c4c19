"""Signed customer tokens: the shop's own site vouches for a logged-in customer.

The site signs a short-lived JWT whose ``sub`` (configurable) is the store's customer id and
passes it in the message metadata as ``customer_token``. The channel edge checks it with the
shop's key (``KEFU_CUSTOMER_TOKEN_SECRET`` for HS256, a PEM public key file named by
``KEFU_CUSTOMER_TOKEN_PUBLIC_KEY`` for RS256 / ES256); a valid one identifies the customer
without questions, anything else is ignored and the customer identifies in the chat.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jwt

from kefu.security.settings import CustomerTokenSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedCustomer:
    customer_id: str
    expires_at: int


def token_key(env: Mapping[str, str] | None = None) -> str | None:
    """The key tokens are checked with, or None when the shop has not configured one."""
    env = os.environ if env is None else env
    secret = (env.get("KEFU_CUSTOMER_TOKEN_SECRET") or "").strip()
    if secret:
        return secret
    key_file = (env.get("KEFU_CUSTOMER_TOKEN_PUBLIC_KEY") or "").strip()
    if key_file:
        return Path(key_file).read_text(encoding="utf-8")
    return None


class CustomerTokenVerifier:
    def __init__(self, settings: CustomerTokenSettings, key: str | None) -> None:
        self.settings = settings
        self.key = key

    @property
    def enabled(self) -> bool:
        return bool(self.key)

    def verify(self, token: Any) -> VerifiedCustomer | None:
        """The customer the token names, if it is well signed, current and meant for Kefu."""
        if not self.key or not isinstance(token, str) or not token or len(token) > 4096:
            return None
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=list(self.settings.algorithms),
                audience=self.settings.audience or None,
                issuer=self.settings.issuer or None,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError as error:
            logger.info("customer token refused: %s", type(error).__name__)
            return None
        customer_id = claims.get(self.settings.claim)
        expires_at = int(claims["exp"])
        issued_at = int(claims.get("iat") or time.time())
        if not isinstance(customer_id, str) or not customer_id:
            logger.info("customer token refused: no '%s' claim", self.settings.claim)
            return None
        if expires_at - issued_at > self.settings.max_lifetime_minutes * 60:
            logger.info("customer token refused: it lives longer than the configured lifetime")
            return None
        return VerifiedCustomer(customer_id=customer_id, expires_at=expires_at)
