"""Call the ASGI app in-process, lifespan included, from plain (sync) tests.

Starlette's TestClient warns about its httpx use (TRAPS.md), so this does the same job with
httpx's own ASGI transport and an anyio portal: ``with AppClient(create_app(url)) as client:
client.get("/search?q=x")``. For what a browser or outside client sees, prefer ``live_server``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, ExitStack
from functools import partial
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class AppClient:
    """A started app (its lifespan ran) and an httpx client bound to it."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.app = app
        self.base_url = base_url
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._lifespan: AbstractAsyncContextManager[Any] | None = None
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> AppClient:
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._lifespan = self.app.router.lifespan_context(self.app)
        self._portal.call(self._lifespan.__aenter__)
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=self.base_url)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._portal is not None and self._client is not None
        try:
            self._portal.call(self._client.aclose)
            assert self._lifespan is not None
            self._portal.call(self._lifespan.__aexit__, None, None, None)
        finally:
            self._stack.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self._portal is not None and self._client is not None
        return self._portal.call(partial(self._client.request, method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)
