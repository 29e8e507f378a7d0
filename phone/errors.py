"""Typed errors of the phone line."""
from __future__ import annotations

from common.errors import YinlingError


class PhoneError(YinlingError):
    """Base of every error the phone line raises on purpose."""

    code = "phone_error"


class SipStartError(PhoneError):
    """The SIP stack could not start (port in use, bad address, PJSIP missing)."""

    code = "sip_start_failed"


class PhoneConfigError(PhoneError):
    """A phone setting that cannot be used."""

    code = "phone_config"
