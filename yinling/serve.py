"""The gateway process as `yinling run` starts it: the gateway app, with the hotline in the same
process when it is enabled (`uvicorn yinling.serve:create_app --factory`).

Here, above both channels, is the one place that puts them together: the gateway never imports the
phone line, and the phone line never imports the gateway.
"""
from __future__ import annotations

import logging
import sys

from fastapi import FastAPI

from assistant.turn import ChatService
from gateway.app import create_app as create_gateway
from gateway.settings import Settings
from phone.line import PhoneLine
from phone.settings import PhoneConfig
from services.facade import Services
from voice.service import VoiceService

# our packages log what an installer needs to see (satellites connecting and dropping, the hotline
# listening, speech workers replaced) at INFO; the libraries below stay at WARNING (httpx logs every request)
OUR_LOGGERS = ("assistant", "gateway", "phone", "services", "voice")


def _log_to_stderr() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    _log_to_stderr()
    phone = PhoneConfig.from_env()

    def hotline(services: Services, chat: ChatService, voice: VoiceService) -> list[PhoneLine]:
        return [PhoneLine(phone, voice, chat, services)] if phone.enabled else []

    return create_gateway(settings, services, companions=hotline)
