"""JSON text of trackers written with ujson (already in Rasa's environment) instead of `json`.

Every turn Rasa turns the whole session into JSON twice: to save it in the tracker store
(`serialise_tracker`) and to send it to the action server. For a session of eight turns `json.dumps`
takes 0.16 ms and ujson 0.07 ms, each time: about 2 % of a turn's CPU in Rasa, growing with the
session (up to the 30 turns after which the gateway starts a new one, assistant.sessions). The text differs only in
spelling (no spaces, Chinese unescaped), never in what it reads back as (tests/rasa/test_patches_exact.py
reads both back and compares). Anything ujson refuses (objects it does not know, integers past 64
bits) goes to `json.dumps`, which then answers or fails exactly as before. Reading stays `json.loads`.
"""
from __future__ import annotations

import json
from typing import Any

import ujson

from rasa_ext.monkey import replace


def dumps(value: Any) -> str:
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (TypeError, OverflowError, ValueError, UnicodeError):
        return json.dumps(value)


def patch_tracker_serialisation() -> None:
    from rasa.core.tracker_store import SerializedTrackerAsText

    def serialise_tracker(tracker: Any) -> str:
        return dumps(tracker.as_dialogue().as_dict())

    replace(SerializedTrackerAsText, "serialise_tracker", staticmethod(serialise_tracker))
