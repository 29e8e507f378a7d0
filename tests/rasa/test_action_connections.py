"""rasa_ext.action_connections: Rasa's calls to the action server share kept-open connections.

A real aiohttp server on loopback stands in for the action server; it records which client
connection (peer address) each request came on.
"""
from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace

import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from rasa_ext import action_connections, patches
from rasa_ext.monkey import unpatched


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An HTTP server that answers every POST with what it saw, and can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.peers: list[tuple[str, int]] = []
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"auth": request.headers.get("Authorization"),
                                  "x": request.headers.get("X-Site"), "token": request.query.get("token"),
                                  "body": await request.json()})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()  # closes the open connections, as a restarting server does


@pytest.fixture(autouse=True)
def applied():
    patches.apply()


def run(scenario) -> None:
    async def main() -> None:
        server = Server(free_port())
        await server.start()
        try:
            await scenario(server, EndpointConfig(f"http://127.0.0.1:{server.port}/webhook"))
        finally:
            await action_connections.close_kept_sessions()
            await server.stop()

    asyncio.run(main())


def test_calls_share_one_connection_where_rasa_opens_one_each():
    async def scenario(server: Server, endpoint: EndpointConfig) -> None:
        for i in range(3):
            assert (await endpoint.request(json={"n": i}, method="post"))["body"] == {"n": i}
        assert len(set(server.peers)) == 1
        server.peers.clear()
        with unpatched():
            for i in range(3):
                await endpoint.request(json={"n": i}, method="post")
        assert len(set(server.peers)) == 3

    run(scenario)


def test_concurrent_calls_each_get_a_connection_and_their_own_answer():
    async def scenario(server: Server, endpoint: EndpointConfig) -> None:
        answers = await asyncio.gather(*(endpoint.request(json={"n": i}, method="post") for i in range(5)))
        assert [a["body"]["n"] for a in answers] == list(range(5))

    run(scenario)


def test_an_idle_connection_is_dropped_before_the_action_server_would_drop_it(monkeypatch):
    from sanic.config import DEFAULT_CONFIG

    assert action_connections.IDLE_S < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
    monkeypatch.setattr(action_connections, "IDLE_S", 0.2)

    async def scenario(server: Server, endpoint: EndpointConfig) -> None:
        await endpoint.request(json={}, method="post")
        await asyncio.sleep(0.5)
        await endpoint.request(json={}, method="post")
        assert len(set(server.peers)) == 2

    run(scenario)


def test_a_restarted_action_server_is_reached_on_a_new_connection():
    async def scenario(server: Server, endpoint: EndpointConfig) -> None:
        await endpoint.request(json={"n": 1}, method="post")
        await server.stop()
        await server.start()
        await asyncio.sleep(0.05)  # the loop sees the old connection closed, as it would between turns
        assert (await endpoint.request(json={"n": 2}, method="post"))["body"] == {"n": 2}
        assert len(set(server.peers)) == 2

    run(scenario)


def test_headers_auth_and_token_are_sent_as_rasa_sends_them():
    async def scenario(server: Server, _endpoint: EndpointConfig) -> None:
        url = f"http://127.0.0.1:{server.port}/webhook"
        plain = EndpointConfig(url, headers={"X-Site": "yuci"}, token="t1")
        secured = EndpointConfig(url, basic_auth={"username": "u", "password": "p"})
        a = await plain.request(json={}, method="post")
        b = await secured.request(json={}, method="post")
        assert (a["x"], a["token"], a["auth"]) == ("yuci", "t1", None)
        assert b["auth"].startswith("Basic ") and b["x"] is None
        assert len(action_connections._SESSIONS) == 2  # different settings never share a session

    run(scenario)


def test_stopping_the_server_closes_the_kept_sessions():
    import rasa.core.run as rasa_run

    async def scenario(_server: Server, endpoint: EndpointConfig) -> None:
        await endpoint.request(json={}, method="post")
        session = action_connections.kept_session(endpoint)
        await rasa_run.close_resources(SimpleNamespace(ctx=SimpleNamespace()), asyncio.get_running_loop())
        assert session.closed and not action_connections._SESSIONS

    run(scenario)
