"""kefu.yml: the settings Kefu reads, environment overrides, and clear errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from kefu.config import DEFAULT_CONFIG_PATH, ConfigError, parse_settings

RAW = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def test_the_shipped_settings_parse() -> None:
    settings = parse_settings(RAW, env={})
    assert settings.max_auth_attempts >= 1
    assert "pending" in settings.rules.cancel_statuses
    assert settings.store.url.startswith("sqlite:///")


def test_the_environment_chooses_the_store() -> None:
    url = "postgresql+psycopg2://kefu@db/kefu"
    assert parse_settings(RAW, env={"KEFU_STORE_URL": url}).store.url == url


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("authentication", "max_attempts"), 0, "must be at least 1"),
        (("rules", "return_refund_to"), ["original", "store_credit"], "store_credit"),
        (("rules", "refund_review_above"), "lots", "must be an amount"),
        (("store", "seed", "reference_date"), "yesterday", "must be a date"),
        (("rules", "cancel_statuses"), [], "non-empty list"),
    ],
)
def test_bad_values_are_named_in_the_error(path: tuple, value: object, message: str) -> None:
    raw = copy.deepcopy(RAW)
    section = raw
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        parse_settings(raw, env={})


def test_a_missing_section_is_named() -> None:
    raw = {k: v for k, v in RAW.items() if k != "rules"}
    with pytest.raises(ConfigError, match="'rules' is missing"):
        parse_settings(raw, env={})
