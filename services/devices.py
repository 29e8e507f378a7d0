"""Home speakers: which resident each Wyoming satellite or WebSocket device speaks for."""

from __future__ import annotations

from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit import audit
from services.errors import InvalidRequest, UnknownDevice
from services.models import SpeakerDevice
from services.residents import load_resident
from services.types import DeviceView

KINDS = ("wyoming", "websocket")


def _view(device: SpeakerDevice) -> DeviceView:
    return DeviceView(id=device.id, kind=device.kind, uri=device.uri, resident_id=device.resident_id,
                      name=device.name, enabled=device.enabled, last_seen_at=device.last_seen_at)


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


def device_seen(session: Session, device_id: str, *, now: datetime) -> None:
    device = session.get(SpeakerDevice, device_id)
    if device is not None:
        device.last_seen_at = now
