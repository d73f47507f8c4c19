"""The channel edge, secrets, tokens and settings on their own (no server)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import jwt
import pytest
import yaml

from kefu.channels.edge import (
    TOO_LONG_PAYLOAD,
    BadMessage,
    ChannelEdge,
    check_sender,
    clean_text,
    client_address,
    client_metadata,
)
from kefu.config import DEFAULT_CONFIG_PATH, ConfigError, parse_settings
from kefu.security.customer_token import CustomerTokenVerifier
from kefu.security.logs import redact_customer_fields
from kefu.security.secrets import SecretError, SharedSecret
from kefu.security.settings import CustomerTokenSettings, SecuritySettings, parse_security_settings

SETTINGS = SecuritySettings()
KEY = "k" * 32


@pytest.mark.parametrize(
    "raw, read",
    [
        ("ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？", "where is my order?"),
        ("can\u200bcel my or\u200dder", "cancel my order"),
        ("\u202eredro ym si erehw", "redro ym si erehw"),
        ("hi\x00\x07\x1b[31m there", "hi[31m there"),
        ("\ud800hello\udfff", "hello"),
        ("\ufeffhello", "hello"),
        ("line one\nline two\ttab", "line one line two tab"),
        ("我的订单在哪里？", "我的订单在哪里?"),
        ("/restart", "/restart"),
        ("/affirm", "/affirm"),
        ('/inform{"customer_id": "james_li_5688"}', 'inform{"customer_id": "james_li_5688"}'),
        ("/action_apply_change", "action_apply_change"),
        ("  //restart", "restart"),
        ("/", "?"),
    ],
)
def test_text_is_cleaned_and_rasa_commands_defused(raw: str, read: str) -> None:
    assert clean_text(raw, 2000).text == read


def test_too_long_text_is_replaced_before_any_work() -> None:
    started = time.perf_counter()
    result = clean_text("x" * 10_000_000, 2000)
    assert result.too_long and result.text == TOO_LONG_PAYLOAD
    assert time.perf_counter() - started < 0.5
    assert not clean_text("x" * 2000, 2000).too_long
    assert clean_text("㎒" * 1000, 2000).too_long  # NFKC turns each into three letters


@pytest.mark.parametrize("sender", [None, "", "  ", 7, ["a"], "a" * 129, "bad\x00id", "tab\tid"])
def test_senders_that_are_no_conversation_id_are_refused(sender: object) -> None:
    with pytest.raises(BadMessage):
        check_sender(sender, SETTINGS)


def test_kefu_keys_in_client_metadata_are_dropped() -> None:
    raw = {"kefu_identity": {"customer_id": "x"}, "kefu_source": "ip:1", "page": "/cart"}
    assert client_metadata(raw) == {"page": "/cart"}
    with pytest.raises(BadMessage):
        client_metadata(["not", "a", "mapping"])


def test_the_edge_stamps_when_it_received_the_message() -> None:
    # A client cannot buy itself more time for a free answer (or less for someone else's).
    edge = ChannelEdge(SETTINGS, "source-key", None)
    before = time.time()
    metadata = edge.metadata({"kefu_received_at": 0.0}, "ip", "10.0.0.1")
    assert before <= metadata["kefu_received_at"] <= time.time()


def verifier() -> CustomerTokenVerifier:
    return CustomerTokenVerifier(CustomerTokenSettings(), KEY)


def token(**claims: object) -> str:
    now = int(time.time())
    body = {"sub": "james_li_5688", "aud": "kefu", "iat": now, "exp": now + 300} | claims
    return jwt.encode(body, KEY, algorithm="HS256")


def test_the_edge_writes_the_source_and_a_vouched_identity() -> None:
    edge = ChannelEdge(SETTINGS, "source-key", verifier())
    metadata = edge.metadata({"customer_token": token(), "kefu_identity": {"customer_id": "evil"}}, "ip", "10.0.0.1")
    assert metadata["kefu_identity"] == {"customer_id": "james_li_5688", "via": "customer_token"}
    assert "customer_token" not in metadata  # the token itself is not kept in the conversation
    assert metadata["kefu_source"].startswith("ip:") and "10.0.0.1" not in metadata["kefu_source"]
    other = ChannelEdge(SETTINGS, "other-key", verifier()).metadata({}, "ip", "10.0.0.1")
    assert other["kefu_source"] != metadata["kefu_source"]  # hashed with the deployment's key


@pytest.mark.parametrize(
    "bad",
    [
        token(exp=int(time.time()) - 10),
        token(aud="other"),
        token(sub=""),
        token(exp=int(time.time()) + 10 * 24 * 3600),
        jwt.encode({"sub": "x", "aud": "kefu"}, KEY, algorithm="HS256"),
        jwt.encode({"sub": "x", "aud": "kefu", "exp": int(time.time()) + 60}, "other" * 8, algorithm="HS256"),
        "not.a.token",
        12345,
        "x" * 5000,
    ],
)
def test_bad_tokens_vouch_for_nobody(bad: object) -> None:
    assert verifier().verify(bad) is None


def test_without_a_key_tokens_are_ignored() -> None:
    assert CustomerTokenVerifier(CustomerTokenSettings(), None).verify(token()) is None


def test_client_address_trusts_the_proxy_only_when_told() -> None:
    assert client_address("127.0.0.1", "6.6.6.6", SETTINGS) == "127.0.0.1"
    trusting = SecuritySettings(trust_forwarded_for=True)
    assert client_address("127.0.0.1", "6.6.6.6, 10.0.0.2", trusting) == "6.6.6.6"


def test_secrets_come_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    secret = SharedSecret("KEFU_TEST_SECRET", "test_secret")
    assert secret.value({"KEFU_TEST_SECRET": "e" * 30}, tmp_path) == "e" * 30
    with pytest.raises(SecretError):
        secret.value({"KEFU_TEST_SECRET": "short"}, tmp_path)
    generated = secret.value({}, tmp_path)
    assert len(generated) >= 32 and secret.value({}, tmp_path) == generated
    assert stat.S_IMODE(os.stat(tmp_path / "test_secret").st_mode) == 0o600


def test_security_settings_defaults_are_closed() -> None:
    shipped = parse_security_settings(yaml.safe_load(DEFAULT_CONFIG_PATH.read_text()), env={})
    assert shipped.host == "127.0.0.1" and shipped.cors_origins == () and not shipped.log_customer_text
    opened = parse_security_settings(
        {}, env={"KEFU_HOST": "0.0.0.0", "KEFU_CORS_ORIGINS": "https://a.example, https://b"}
    )
    assert opened.listens_beyond_localhost and opened.cors_origins == ("https://a.example", "https://b")
    with pytest.raises(ConfigError, match="unknown keys"):
        parse_security_settings({"security": {"hots": "x"}}, env={})
    with pytest.raises(ConfigError, match="algorithms"):
        parse_security_settings({"security": {"customer_token": {"algorithms": ["none"]}}}, env={})


@pytest.mark.parametrize("factors", [[["email"]], [["email", "email"]], [["full_name", "phone"]], []])
def test_an_email_alone_can_never_be_configured_as_proof(factors: list) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["authentication"]["factors"] = factors
    with pytest.raises(ConfigError):
        parse_settings(raw, env={})


def test_logs_keep_the_length_of_customer_fields_not_their_text() -> None:
    event = redact_customer_fields(None, "info", {"event": "x", "text": "my card is 4111", "user_text": "hi"})
    assert event == {"event": "x", "text": "[redacted: 15]", "user_text": "[redacted: 2]"}


def test_full_width_text_tokenizes() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from kefu.nlu.tokenizer import MultilingualTokenizer

    tokenizer = MultilingualTokenizer(MultilingualTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={"text": "ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？"}), "text")
    assert [t.text for t in tokens] == ["ｗｈｅｒｅ", "ｉｓ", "ｍｙ", "ｏｒｄｅｒ"]
    assert [t.text for t in tokenizer.tokenize(Message(data={"text": "great 👍 thanks"}), "text")] == [
        "great",
        "thanks",
    ]
