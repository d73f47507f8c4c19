"""The website chat widget's files and Kefu's own chat page, served by the Rasa server.

The widget talks to Kefu's Socket.IO channel (kefu/channels/socketio.py); this channel only
serves what a browser loads, so a shop needs nothing but Kefu:

- ``/webhooks/widget/`` a chat page customers can be sent to (the widget filling the page),
- ``/webhooks/widget/demo`` a sample shop page with the launcher, and the tag to paste,
- ``/webhooks/widget/kefu-widget.js`` and ``kefu-widget.css``, the embeddable widget, built
  from ``widget/`` (npm, esbuild) and committed, so running Kefu needs no Node.js.

The page's look comes from ``widget:`` in kefu.yml (title, colours, language, how long a
browser keeps the conversation); a shop's own pages set the same through data attributes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Mapping

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.config import ConfigError, read_settings_file

STATIC = Path(__file__).parent / "widget_static"
STATIC_FILES = {
    "kefu-widget.js": "text/javascript; charset=utf-8",
    "kefu-widget.css": "text/css; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "THIRD-PARTY.md": "text/plain; charset=utf-8",
}
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
LANGUAGE_CHOICES = ("auto", "en", "zh", "fr", "es", "de")
# The page runs only its own files; the socket goes back to where the page came from.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}


@dataclass(frozen=True)
class WidgetSettings:
    """``widget:`` in kefu.yml: how Kefu's own chat page looks."""

    title: str = ""  # the shop's name; empty: "Customer service" in the customer's language
    primary_color: str = "#1f5fbf"
    primary_text_color: str = "#ffffff"
    language: str = "auto"  # "auto": the browser's languages choose
    keep_hours: float = 24.0
    position: str = "right"


def parse_widget_settings(raw: Mapping[str, Any]) -> WidgetSettings:
    section = raw.get("widget") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("'widget' must be a mapping")
    unknown = set(section) - set(WidgetSettings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown keys in 'widget': {sorted(unknown)}")
    values = {**WidgetSettings().__dict__, **section}
    for key in ("primary_color", "primary_text_color"):
        if not COLOUR.match(str(values[key])):
            raise ConfigError(f"'widget.{key}' must be a colour like #1f5fbf, not {values[key]!r}")
    if values["language"] not in LANGUAGE_CHOICES:
        raise ConfigError(f"'widget.language' must be one of {LANGUAGE_CHOICES}, not {values['language']!r}")
    if values["position"] not in ("right", "left"):
        raise ConfigError(f"'widget.position' must be right or left, not {values['position']!r}")
    try:
        keep_hours = float(values["keep_hours"])
    except (TypeError, ValueError) as error:
        raise ConfigError(f"'widget.keep_hours' must be a number of hours, not {values['keep_hours']!r}") from error
    if keep_hours <= 0:
        raise ConfigError("'widget.keep_hours' must be more than 0")
    return WidgetSettings(
        title=str(values["title"] or ""),
        primary_color=str(values["primary_color"]),
        primary_text_color=str(values["primary_text_color"]),
        language=str(values["language"]),
        keep_hours=keep_hours,
        position=str(values["position"]),
    )


def script_attributes(settings: WidgetSettings, mode: str) -> Dict[str, str]:
    """The data attributes of the widget's script tag on Kefu's pages."""
    return {
        **({"data-title": settings.title} if settings.title else {}),
        "data-primary-color": settings.primary_color,
        "data-primary-text-color": settings.primary_text_color,
        "data-language": settings.language,
        "data-keep-hours": f"{float(settings.keep_hours):g}",
        "data-position": settings.position,
        "data-mode": mode,
        **({"data-target": "#chat"} if mode == "page" else {}),
    }


def script_tag(attributes: Mapping[str, str], src: str) -> str:
    written = " ".join(f'{name}="{html.escape(value, quote=True)}"' for name, value in attributes.items())
    return f'<script src="{html.escape(src, quote=True)}" {written} defer></script>'


def page(settings: WidgetSettings, mode: str, server: str) -> str:
    """Kefu's chat page ("page") or the sample shop page with the launcher ("launcher")."""
    template = (STATIC / ("page.html" if mode == "page" else "demo.html")).read_text(encoding="utf-8")
    attributes = script_attributes(settings, mode)
    local_tag = script_tag(attributes, "kefu-widget.js")
    shop_tag = script_tag(attributes, f"{server}/webhooks/widget/kefu-widget.js")
    return (
        template.replace("{{title}}", html.escape(settings.title or "Customer service"))
        .replace("{{script}}", local_tag)
        .replace("{{snippet}}", html.escape(shop_tag))
    )


class WidgetInput(InputChannel):
    """Serves the widget; customers' messages arrive through the Socket.IO channel."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(self, settings: WidgetSettings | None = None) -> None:
        self.settings = settings or parse_widget_settings(read_settings_file())

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> WidgetInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        widget = Blueprint("kefu_widget", __name__)

        @widget.route("/", methods=["GET"])
        async def chat_page(request: Request) -> HTTPResponse:
            return response.html(page(self.settings, "page", _server(request)), headers=PAGE_HEADERS)

        @widget.route("/demo", methods=["GET"])
        async def demo_page(request: Request) -> HTTPResponse:
            return response.html(page(self.settings, "launcher", _server(request)), headers=PAGE_HEADERS)

        @widget.route("/<name:str>", methods=["GET"])
        async def asset(request: Request, name: str) -> HTTPResponse:
            if not name:  # "/webhooks/widget/" reaches this route with an empty name
                return await chat_page(request)
            if name not in STATIC_FILES:  # a fixed list: no path from the URL reaches the disk
                return response.json({"error": "not found"}, status=404)
            body = (STATIC / name).read_bytes()
            return response.raw(body, content_type=STATIC_FILES[name], headers=ASSET_HEADERS)

        return widget


def _server(request: Request) -> str:
    """Kefu's address as the browser reached it, for the tag a shop copies."""
    return f"{request.scheme}://{request.host}"
