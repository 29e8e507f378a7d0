"""Typed errors of the phone line."""
from __future__ import annotations


class PhoneError(Exception):
    """Base of every error the phone line raises on purpose."""


class SipStartError(PhoneError):
    """The SIP stack could not start (port in use, bad address, PJSIP missing)."""


class PhoneConfigError(PhoneError):
    """A phone setting that cannot be used."""
