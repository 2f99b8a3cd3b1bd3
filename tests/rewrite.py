"""A middleware for the emulators that rewrites their JSON answers: a server we did not write.

`Middleware(RewriteJson, path="/api/v1beta/projects/*/restores", change=fn)` in an emulator's `hooks`
lets the emulator answer, then sends `fn(body)` instead, for 2xx answers to paths matching the glob.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RewriteJson:
    def __init__(self, app: ASGIApp, path: str, change: Callable[[Any], Any]) -> None:
        self.app = app
        self.path = path
        self.change = change
        self.rewritten = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not fnmatchcase(scope["path"], self.path):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(parts)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if 200 <= start["status"] < 300 and body:
            body = json.dumps(self.change(json.loads(body))).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
