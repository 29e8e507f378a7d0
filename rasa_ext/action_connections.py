"""Keep Rasa's HTTP connections to the action server open between calls.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp `ClientSession` for every call (a new
connector, a host lookup on a thread, a TCP connection) and closes it after one request. With a custom
action on most turns that was about 5 % of Rasa's CPU at 20 senders, plus the action server's own
accept and close. Here `EndpointConfig.session()` hands `request` (unchanged) a session kept per event
loop and endpoint settings, whose connections stay open between calls.

A kept connection must never be one the server is about to close: the action server (Sanic) closes a
connection after 5 s without a request (KEEP_ALIVE_TIMEOUT), and we drop ours after IDLE_S, well before.
A connection the server did close (it restarted, it died) is seen as closed by the pool and not reused;
no call is ever retried, so no action can run twice.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Tuple

from rasa_ext.fast_json import dumps
from rasa_ext.monkey import replace

IDLE_S = 2.0  # below the action server's 5 s keep-alive, so it never closes a connection we reuse

_Key = Tuple[Any, Tuple[Tuple[str, str], ...], Optional[Tuple[str, str]]]
_SESSIONS: Dict[_Key, Any] = {}  # (event loop, headers, basic auth) -> aiohttp.ClientSession


class _Kept:
    """`async with` gives the kept session and leaves it open (Rasa's callers close what they get)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def kept_session(endpoint: Any) -> Any:
    """The session for `endpoint` on the running loop, made with Rasa's own settings the first time."""
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    auth = endpoint.basic_auth
    key: _Key = (loop, tuple(sorted((str(k), str(v)) for k, v in endpoint.headers.items())),
                 (auth["username"], auth["password"]) if auth else None)
    session = _SESSIONS.get(key)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=aiohttp.BasicAuth(*key[2]) if key[2] else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_S),
            json_serialize=dumps,  # the tracker sent to the action server, see rasa_ext.fast_json
        )
        _SESSIONS[key] = session
    return session


async def close_kept_sessions() -> None:
    """Close the sessions of the running loop (the server is stopping)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _SESSIONS if k[0] is loop]:
        await _SESSIONS.pop(key).close()


def patch_action_connections() -> None:
    import rasa.core.run as run
    from rasa.utils.endpoints import EndpointConfig

    def session(self: EndpointConfig) -> _Kept:
        return _Kept(kept_session(self))

    original_close = run.close_resources

    async def close_resources(app: Any, loop: Any) -> None:
        try:
            await original_close(app, loop)
        finally:
            await close_kept_sessions()

    replace(EndpointConfig, "session", session)
    replace(run, "close_resources", close_resources)
