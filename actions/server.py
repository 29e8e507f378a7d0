"""Start the action server: `python -m actions.server [--port 5055] [--host 127.0.0.1]`.

rasa_sdk's own entry point binds every interface and, since rasa_sdk 3.10,
expects Rasa Pro's domain digest on every call, answering 449 ("missing domain
context") when Rasa Open Source 3.6 leaves the domain out under
`enable_selective_domain`. None of our actions read the domain, and sending it
on every call costs each turn its serialisation, so our executor accepts calls
without it.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import Any

from rasa_sdk import utils
from rasa_sdk.endpoint import run
from rasa_sdk.executor import ActionExecutor

from services import config, production
from services.db import make_engine


class DomainOptionalExecutor(ActionExecutor):
    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> dict[str, Any]:
        if payload.get("domain"):
            self.domain = payload["domain"]
            self.domain_digest = payload.get("domain_digest")
        return self.domain or {}


def _can_listen(host: str, port: int) -> str | None:
    """None when host:port can be listened on, else why not. Sanic logs a failed bind and returns as if it
    had been stopped, so the server would exit 0 and a supervisor could not tell it failed."""
    try:
        with socket.create_server((host, port), reuse_port=False):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def refuse_unless_ready(host: str) -> production.Report:
    """Production mode: ProductionRefused before listening when anything is not fit for it (services.production)."""
    engine = make_engine(config.database_url())
    try:
        report = production.check(engine, [production.Listener("actions", host)])
    finally:
        engine.dispose()
    return production.enforce(report, who="action server", log=logging.getLogger("actions.server"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Yinling action server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("YINLING_ACTIONS_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("YINLING_ACTIONS_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    problem = _can_listen(args.host, args.port)
    if problem is not None:
        sys.exit(f"Yinling action server: cannot listen on {args.host}:{args.port}: {problem}")
    os.environ["SANIC_HOST"] = args.host  # rasa_sdk.endpoint.run reads the host from here
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    try:
        refuse_unless_ready(args.host)
    except production.ProductionRefused as e:
        print(e, file=sys.stderr, flush=True)
        sys.exit(2)
    executor = DomainOptionalExecutor()
    executor.register_package("actions")
    run(executor, port=args.port, cors_origins=None, endpoints="")


if __name__ == "__main__":
    main()
