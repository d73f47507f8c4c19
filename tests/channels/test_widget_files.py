"""The widget's files as Kefu serves them: built from the sources in widget/, pages that run
only their own scripts, the shop's settings checked, nothing served from outside the list."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp
import pytest

from kefu.channels.widget import STATIC, WidgetInput, WidgetSettings, page, parse_widget_settings
from kefu.config import PROJECT_ROOT, ConfigError
from tests.channels.messenger_harness import ScriptedBot, served

WIDGET = PROJECT_ROOT / "widget"


def source_hash() -> str:
    """The hash widget/build.mjs writes into the bundle: sources and the lock file, by path."""
    paths = [p for p in (WIDGET / "src").rglob("*") if p.is_file()] + [WIDGET / "package-lock.json"]
    digest = hashlib.sha256()
    for relative in sorted(p.relative_to(WIDGET).as_posix() for p in paths):
        digest.update(f"{relative}\0".encode())
        digest.update((WIDGET / relative).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@pytest.mark.parametrize("built", ["kefu-widget.js", "kefu-widget.css"])
def test_the_committed_widget_is_built_from_the_sources_in_the_tree(built: str) -> None:
    first_line = (STATIC / built).read_text(encoding="utf-8").splitlines()[0]
    found = re.search(r"sources sha256:([0-9a-f]{64})", first_line)
    assert found, f"{built} has no source hash: rebuild it with `make widget`"
    assert found.group(1) == source_hash(), f"{built} is older than widget/src: run `make widget` and commit"


def test_the_widget_never_writes_html_from_text() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (WIDGET / "src").glob("*.js"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in sources


Fetched = Tuple[int, Dict[str, str], str]


def fetch(settings: WidgetSettings, paths: List[str]) -> List[Fetched]:
    """GET each path from the widget channel on a real server, as a browser would."""

    async def get_all() -> List[Fetched]:
        async with served(WidgetInput(settings), ScriptedBot()) as base, aiohttp.ClientSession() as session:
            results = []
            for path in paths:
                async with session.get(f"{base}/{path}") as reply:
                    results.append((reply.status, dict(reply.headers), await reply.text()))
            return results

    return asyncio.run(get_all())


def test_kefus_pages_load_only_their_own_files_and_the_shops_words_are_escaped() -> None:
    (status, headers, chat), (_, _, demo) = fetch(
        WidgetSettings(title='Tom & Jerry\'s <script>alert("x")</script>'), ["", "demo"]
    )
    assert status == 200
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "<script>alert" not in chat and "&lt;script&gt;alert" in chat
    assert 'data-mode="page"' in chat and 'src="kefu-widget.js"' in chat
    # The tag a shop copies names the address the browser used to reach Kefu.
    assert "http://127.0.0.1" in demo and "data-mode=&quot;launcher&quot;" in demo


def test_only_the_widgets_files_are_served() -> None:
    paths = ["kefu-widget.js", "page.html", "..%2Fwidget.py", "%2e%2e/edge.py", "demo.html", "widget.py"]
    (status, headers, _), *refused = fetch(WidgetSettings(), paths)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert [result[0] for result in refused] == [404] * (len(paths) - 1)


def test_the_page_carries_the_shops_settings() -> None:
    settings = parse_widget_settings(
        {"widget": {"title": "Example Shop", "primary_color": "#aa3300", "language": "zh", "keep_hours": 2}}
    )
    html = page(settings, "launcher", "https://kefu.example.com")
    assert 'data-primary-color="#aa3300"' in html and 'data-language="zh"' in html and 'data-keep-hours="2"' in html
    assert "<title>Example Shop" in html


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"primary_color": "red; background: url(x)"}, "widget.primary_color"),
        ({"language": "it"}, "widget.language"),
        ({"keep_hours": 0}, "widget.keep_hours"),
        ({"keep_hours": "a day"}, "widget.keep_hours"),
        ({"position": "top"}, "widget.position"),
        ({"colour": "#fff"}, "unknown keys in 'widget'"),
    ],
)
def test_bad_widget_settings_are_refused_with_the_key_named(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_widget_settings({"widget": section})


def test_the_shipped_settings_are_valid() -> None:
    from kefu.config import read_settings_file

    assert parse_widget_settings(read_settings_file()).language == "auto"


def test_the_third_party_notice_names_what_the_bundle_includes() -> None:
    notice = (STATIC / "THIRD-PARTY.md").read_text(encoding="utf-8")
    assert "socket.io-client" in notice and "MIT" in notice
    assert Path(STATIC / "kefu-widget.js").stat().st_size < 150_000
