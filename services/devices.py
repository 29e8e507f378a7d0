"""Home speakers: which resident each Wyoming satellite or WebSocket device speaks for."""

from __future__ import annotations

from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit import audit
from services.errors import DeviceUriTaken, InvalidRequest, UnknownDevice
from services.models import SpeakerDevice
from services.residents import load_resident
from services.types import DeviceEndpoint, DeviceView

KINDS = ("wyoming", "websocket")
# Bounds of a device's end-of-speech settings (seconds). Below them an elder's pause between words cuts the
# sentence, or a breath counts as nothing said; above them a turn hangs on a room that has gone quiet.
ENDPOINT_BOUNDS = {
    "trailing_silence_s": (0.3, 5.0),
    "max_utterance_s": (3.0, 60.0),
    "no_speech_timeout_s": (2.0, 60.0),
}


def _view(device: SpeakerDevice) -> DeviceView:
    return DeviceView(id=device.id, kind=device.kind, uri=device.uri, resident_id=device.resident_id,
                      name=device.name, enabled=device.enabled, last_seen_at=device.last_seen_at,
                      endpoint=DeviceEndpoint(trailing_silence_s=device.trailing_silence_s,
                                              max_utterance_s=device.max_utterance_s,
                                              no_speech_timeout_s=device.no_speech_timeout_s),
                      wake_phrase=device.wake_phrase)


def check_uri(kind: str, uri: Optional[str]) -> Optional[str]:
    """Satellites are reached at tcp://host:port (10700 by convention); WebSocket devices dial in."""
    if kind not in KINDS:
        raise InvalidRequest("unknown_device_kind", kind)
    if kind == "websocket":
        return None
    parts = urlsplit(uri or "")
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        raise InvalidRequest("bad_device_uri", f"a satellite needs tcp://host:port, got {uri!r}")
    return f"tcp://{parts.hostname}:{parts.port}"


def register_device(session: Session, device_id: str, kind: str, uri: Optional[str], resident_id: str, name: str,
                    actor: str, *, now: datetime) -> DeviceView:
    """Adds the device, or rebinds it when it exists (same id): re-running a set-up is harmless."""
    uri = check_uri(kind, uri)
    load_resident(session, resident_id)
    if uri is not None:  # the address is unique: say who holds it rather than fail on the index
        holder = session.scalars(select(SpeakerDevice).where(SpeakerDevice.uri == uri)).first()
        if holder is not None and holder.id != device_id:
            raise DeviceUriTaken(uri, holder.id, holder.enabled)
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        device = SpeakerDevice(id=device_id, created_at=now)
        session.add(device)
    device.kind, device.uri, device.resident_id, device.name, device.enabled = kind, uri, resident_id, name, True
    session.flush()
    audit(session, actor, "device_registered", device_id, {"kind": kind, "uri": uri, "resident_id": resident_id},
          now=now)
    return _view(device)


def get_device(session: Session, device_id: str) -> DeviceView:
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    return _view(device)


def list_devices(session: Session, kind: Optional[str] = None, enabled_only: bool = True) -> list[DeviceView]:
    query = select(SpeakerDevice).order_by(SpeakerDevice.id)
    if kind:
        query = query.where(SpeakerDevice.kind == kind)
    if enabled_only:
        query = query.where(SpeakerDevice.enabled.is_(True))
    return [_view(d) for d in session.scalars(query)]


def set_enabled(session: Session, device_id: str, enabled: bool, actor: str, *, now: datetime) -> DeviceView:
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    device.enabled = enabled
    audit(session, actor, "device_enabled" if enabled else "device_disabled", device_id, {}, now=now)
    return _view(device)


def remove_device(session: Session, device_id: str, actor: str, *, now: datetime) -> DeviceView:
    """Takes the device off the register (its satellite link goes at the controller's next refresh)."""
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    view = _view(device)
    session.delete(device)
    session.flush()
    audit(session, actor, "device_removed", device_id, {"kind": view.kind, "uri": view.uri,
                                                        "resident_id": view.resident_id}, now=now)
    return view


def check_endpoint(endpoint: DeviceEndpoint) -> DeviceEndpoint:
    """The settings as floats, or InvalidRequest('<name>_out_of_range' / 'trailing_silence_not_below_cap')."""
    values: dict[str, Optional[float]] = {}
    for name, (low, high) in ENDPOINT_BOUNDS.items():
        value = getattr(endpoint, name)
        if value is not None:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (number and low <= value <= high):  # also refuses NaN
                raise InvalidRequest(f"{name.removesuffix('_s')}_out_of_range",
                                     f"{name} must be {low:g} to {high:g} s, got {value!r}")
            value = float(value)
        values[name] = value
    trailing, cap = values["trailing_silence_s"], values["max_utterance_s"]
    if trailing is not None and cap is not None and trailing >= cap:  # the cap would end every utterance first
        raise InvalidRequest("trailing_silence_not_below_cap",
                             f"trailing silence {trailing:g} s must be shorter than the {cap:g} s cap")
    return DeviceEndpoint(**values)


def set_endpoint(session: Session, device_id: str, endpoint: DeviceEndpoint, actor: str, *,
                 now: datetime) -> DeviceView:
    """Replaces all three settings; a None goes back to the gateway's default. Sessions opened from now on
    use them (a Wyoming satellite's on its next connection)."""
    endpoint = check_endpoint(endpoint)
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    device.trailing_silence_s = endpoint.trailing_silence_s
    device.max_utterance_s = endpoint.max_utterance_s
    device.no_speech_timeout_s = endpoint.no_speech_timeout_s
    audit(session, actor, "device_endpoint_set", device_id,
          {name: getattr(endpoint, name) for name in ENDPOINT_BOUNDS}, now=now)
    return _view(device)


def check_wake_phrase(phrase: Optional[str]) -> Optional[str]:
    """A phrase of 2 to 12 letters (Chinese characters, or words of another script with spaces between),
    without digits or punctuation; None or blank: the default. Too short a phrase wakes the speaker on every
    conversation in the room; whether the recogniser knows its words is checked when the satellite connects."""
    if phrase is None or not phrase.strip():
        return None
    phrase = " ".join(phrase.split())
    letters = phrase.replace(" ", "")
    if not (2 <= len(letters) <= 12) or not all(ch.isalpha() for ch in letters):
        raise InvalidRequest("bad_wake_phrase",
                             f"a wake phrase is 2 to 12 letters without digits or punctuation, got {phrase!r}")
    return phrase


def set_wake_phrase(session: Session, device_id: str, phrase: Optional[str], actor: str, *,
                    now: datetime) -> DeviceView:
    """The satellite's wake phrase (None: the default); used from its next connection."""
    phrase = check_wake_phrase(phrase)
    device = session.get(SpeakerDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    device.wake_phrase = phrase
    audit(session, actor, "device_wake_phrase_set", device_id, {"wake_phrase": phrase}, now=now)
    return _view(device)


def device_seen(session: Session, device_id: str, *, now: datetime) -> None:
    device = session.get(SpeakerDevice, device_id)
    if device is not None:
        device.last_seen_at = now
