"""Gateway settings from the environment, frozen once at start."""
from __future__ import annotations

import os
from dataclasses import dataclass

from common.words import ACK_TIMEOUT


@dataclass(frozen=True)
class Settings:
    rasa_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    rasa_timeout_s: float = 15.0
    max_message_chars: int = 500
    escalation_check_s: float = 30.0
    ack_timeout_s: float = ACK_TIMEOUT.total_seconds()
    voice_preload: bool = True
    satellites: bool = True
    service_key: str = ""  # empty: common.service_key decides (YINLING_SERVICE_KEY or var/service.key)
    alert_poll_s: float = 0.25
    session_turns: int = 30  # assistant.sessions: a new Rasa session after this many turns, once at rest; 0: never

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            rasa_url=os.environ.get("YINLING_RASA_URL", cls.rasa_url).rstrip("/"),
            actions_url=os.environ.get("YINLING_ACTIONS_URL", cls.actions_url).rstrip("/"),
            rasa_timeout_s=float(os.environ.get("YINLING_RASA_TIMEOUT", cls.rasa_timeout_s)),
            escalation_check_s=float(os.environ.get("YINLING_ESCALATION_CHECK_S", cls.escalation_check_s)),
            ack_timeout_s=float(os.environ.get("YINLING_ACK_TIMEOUT_S", cls.ack_timeout_s)),
            voice_preload=os.environ.get("YINLING_VOICE_PRELOAD", "1") != "0",
            satellites=os.environ.get("YINLING_SATELLITES", "1") != "0",
            alert_poll_s=float(os.environ.get("YINLING_ALERT_POLL_S", cls.alert_poll_s)),
            session_turns=int(os.environ.get("YINLING_SESSION_TURNS", cls.session_turns)),
        )
