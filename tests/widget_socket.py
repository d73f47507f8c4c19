"""A website widget's Socket.IO connection, for tests: Python's socketio client speaking Kefu's protocol."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import socketio


class WidgetSocket:
    """A widget's socket as the browser's is: a session, its history, Kefu's replies."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient()
        self.replies: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.histories: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", lambda data: self.replies.put_nowait(data))
        self.client.on("session_confirm", lambda session: self.confirmed.put_nowait(session))
        self.client.on("kefu_history", lambda history: self.histories.put_nowait(history))
        self.session = ""

    async def open(self, url: str, session: str | None = None) -> str:
        # Long polling: the pinned aiohttp is older than what engine.io's websocket client needs.
        await self.client.connect(url, socketio_path="/socket.io", transports=["polling"])
        await self.client.emit("session_request", {"session_id": session})
        self.session = await asyncio.wait_for(self.confirmed.get(), 30)
        return self.session

    async def say(self, message: Any, session_id: str | None = None, replies: int = 1) -> List[Dict[str, Any]]:
        await self.client.emit("user_uttered", {"message": message, "session_id": session_id or self.session})
        return [await asyncio.wait_for(self.replies.get(), 30) for _ in range(replies)]

    async def close(self) -> None:
        await self.client.disconnect()
