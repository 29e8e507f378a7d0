"""The parts one gateway is made of, built once and handed to every route module (gateway.routes).

The gateway knows no other channel: the process that also runs the hotline (yinling.serve) hands the
phone line in as a companion, which the app starts, stops and reports in /api/health.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.rasa_client import RasaClient
from assistant.sessions import SessionKeeper
from assistant.turn import ChatService
from assistant.voice_settings import ServicesVoiceSettings
from common.service_key import service_key
from gateway.alerts import AlertHub
from gateway.auth import Authenticator, Doors
from gateway.settings import Settings
from services.facade import Services
from voice.satellites import SatelliteController
from voice.service import VoiceConfig, VoiceService


class Companion(Protocol):
    """Another channel served in this process (the hotline): started after the app, stopped before it."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


# builds the companions from the parts they share with the gateway
Companions = Callable[[Services, ChatService, VoiceService], Sequence[Companion]]


@dataclass(frozen=True)
class GatewayParts:
    settings: Settings
    services: Services
    rasa: RasaClient
    chat: ChatService
    voice: VoiceService
    satellites: SatelliteController
    auth: Authenticator
    doors: Doors
    hub: AlertHub
    companions: tuple[Companion, ...] = ()

    @classmethod
    def build(cls, settings: Settings, services: Services, companions: Companions | None = None) -> "GatewayParts":
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
        chat = ChatService(services, rasa, settings.max_message_chars, SessionKeeper(rasa, settings.session_turns))
        voice = VoiceService(ServicesVoiceSettings(services), chat, VoiceConfig.from_env())
        auth = Authenticator(services, settings.service_key or service_key())
        return cls(settings=settings, services=services, rasa=rasa, chat=chat, voice=voice,
                   satellites=SatelliteController(voice), auth=auth, doors=Doors.of(auth),
                   hub=AlertHub(services, settings.alert_poll_s),
                   companions=tuple(companions(services, chat, voice)) if companions is not None else ())
