"""Which web pages may open a socket to Kefu: its own (whatever the scheme a proxy adds) and the
origins the shop lists; no other, and never by a forged forwarding header unless the proxy is
trusted."""

from __future__ import annotations

import pytest

from kefu.channels.edge import ChannelEdge
from kefu.channels.socketio import KefuSocketIOInput, is_issued_session_id, issue_session_id
from kefu.security.settings import SecuritySettings

SHOP = "https://shop.example.com"


def channel(trust_proxy: bool = False) -> KefuSocketIOInput:
    settings = SecuritySettings(cors_origins=(SHOP,), trust_forwarded_for=trust_proxy)
    return KefuSocketIOInput(edge=ChannelEdge(settings, "k" * 32))


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (SHOP, True),  # listed
        ("http://kefu.example.com:5005", True),  # Kefu's own page
        ("https://kefu.example.com:5005", True),  # the same behind a TLS proxy
        ("https://evil.example.com", False),
        ("https://shop.example.com.evil.com", False),
        ("null", False),
        (None, False),
    ],
)
def test_kefus_own_pages_and_the_listed_origins_may_open_a_socket(origin: str | None, allowed: bool) -> None:
    environ = {"HTTP_HOST": "kefu.example.com:5005", "wsgi.url_scheme": "http"}
    assert channel().allows_origin(origin, environ) is allowed


def test_a_forwarded_host_counts_only_from_a_trusted_proxy() -> None:
    environ = {"HTTP_HOST": "10.0.0.5:5005", "HTTP_X_FORWARDED_HOST": "evil.example.com"}
    assert not channel().allows_origin("https://evil.example.com", environ)
    proxied = {"HTTP_HOST": "10.0.0.5:5005", "HTTP_X_FORWARDED_HOST": "chat.example.com"}
    assert channel(trust_proxy=True).allows_origin("https://chat.example.com", proxied)


def test_only_ids_kefu_issued_with_its_key_are_resumed() -> None:
    issued = issue_session_id("k" * 32)
    assert is_issued_session_id(issued, "k" * 32)
    assert not is_issued_session_id(issued, "another replica's key..........")
    assert not is_issued_session_id(issued[:-1] + ("0" if issued[-1] != "0" else "1"), "k" * 32)
    assert not is_issued_session_id("a" * 48, "k" * 32) and not is_issued_session_id(None, "k" * 32)
