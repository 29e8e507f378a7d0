"""Settings of the hotline, from the environment (YINLING_SIP_*, YINLING_OPERATOR_URI, YINLING_CALL_*)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.paths import var_dir
from phone.errors import PhoneConfigError
from phone.sip import SipSettings


def _calls_dir() -> Path:
    return var_dir("calls", create=False)


@dataclass(frozen=True)
class PhoneConfig:
    sip: SipSettings = field(default_factory=SipSettings)
    enabled: bool = True
    # where handoffs are transferred with REFER: an operator's extension or a PBX queue; None: no
    # operator line, so callers are told help will call back and the handoff waits in the queue
    operator_uri: str | None = None
    transfer_timeout_s: float = 30.0
    max_call_s: float = 1800.0  # every call ends at last, help calls included: resources stay bounded
    rtp_timeout_s: float = 30.0  # no audio from the caller this long: the line is dead
    media_timeout_s: float = 10.0  # answered, but no audio path came up
    reassure_every_s: float = 20.0  # a caller waiting for help hears a human-sounding word this often
    record_audio: bool = False  # keep the caller's audio with the call record (off unless configured)
    audio_dir: Path = field(default_factory=_calls_dir)
    audio_retention_days: float = 30.0

    @classmethod
    def from_env(cls) -> "PhoneConfig":
        env = os.environ
        try:
            port = int(env.get("YINLING_SIP_PORT", SipSettings.port))
            sip = SipSettings(host=env.get("YINLING_SIP_HOST", SipSettings.host), port=port or SipSettings.port,
                              rtp_port=int(env.get("YINLING_RTP_PORT", SipSettings.rtp_port)),
                              max_calls=int(env.get("YINLING_SIP_MAX_CALLS", SipSettings.max_calls)))
            return cls(
                sip=sip, enabled=port != 0,
                operator_uri=env.get("YINLING_OPERATOR_URI") or None,
                transfer_timeout_s=float(env.get("YINLING_TRANSFER_TIMEOUT_S", cls.transfer_timeout_s)),
                max_call_s=float(env.get("YINLING_CALL_MAX_S", cls.max_call_s)),
                rtp_timeout_s=float(env.get("YINLING_RTP_TIMEOUT_S", cls.rtp_timeout_s)),
                reassure_every_s=float(env.get("YINLING_REASSURE_EVERY_S", cls.reassure_every_s)),
                record_audio=env.get("YINLING_CALL_AUDIO", "0") == "1",
                # a field with a default factory is no class attribute: cls.audio_dir does not exist
                audio_dir=Path(env.get("YINLING_CALL_AUDIO_DIR") or _calls_dir()),
                audio_retention_days=float(env.get("YINLING_CALL_AUDIO_DAYS", cls.audio_retention_days)),
            )
        except ValueError as exc:
            raise PhoneConfigError(f"bad phone setting: {exc}") from exc
