"""kefu.yml: the settings Kefu reads, environment overrides, and clear errors."""

from __future__ import annotations

import copy
from pathlib import Path

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


# --- settings read on every turn are parsed again only when they change ---


def test_per_turn_settings_are_read_again_only_when_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.generation.settings import ai_settings
    from kefu.recommender.settings import recommender_settings
    from kefu.translation.factory import default_translator

    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["generation"]["answer_budget_s"] = 1.5
    raw["translation"] = {"backend": "passthrough"}
    config = tmp_path / "kefu.yml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setenv("KEFU_CONFIG", str(config))
    first = ai_settings()
    assert first.generation.answer_budget_s == 1.5
    assert ai_settings() is first and recommender_settings() is recommender_settings()
    assert default_translator() is default_translator() and default_translator().name == "passthrough"

    raw["generation"]["answer_budget_s"] = 2.0
    raw["recommender"] = {"exclude_bought": False}
    config.write_text(yaml.safe_dump(raw) + "\n# edited\n", encoding="utf-8")  # another size, too
    assert ai_settings().generation.answer_budget_s == 2.0
    assert recommender_settings().exclude_bought is False
    monkeypatch.setenv("KEFU_ANSWER_BUDGET", "0.5")  # the environment counts as well
    assert ai_settings().generation.answer_budget_s == 0.5
