"""The one root of every error Yinling raises on purpose.

Each layer subclasses it (services.errors.ServiceError, voice.errors.VoiceError, phone.errors.PhoneError,
assistant.rasa_client.RasaUnavailable, assistant.turn.BadMessage, yinling.stack.StackError) and gives each
failure a `code`: a short stable word that logs, the HTTP layer (gateway.errors) and the spoken apologies
(assistant.apologies) map from, in one place each.
"""
from __future__ import annotations


class YinlingError(Exception):
    """Base of everything Yinling raises on purpose."""

    code = "error"
