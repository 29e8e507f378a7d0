"""The one line an operator reads first when a conversation is handed to them: who, why, what they
wanted, the keys they pressed, their last words. Written here only, for every channel."""
from __future__ import annotations

from typing import Any, Optional

from common.words import TranscriptLine
from services.types import HandoffRequest

INTENT_ZH = {
    "book_meal": "订饭", "cancel_meal": "取消订饭", "ask_menu": "问菜单", "ask_subsidy": "问补贴",
    "ask_subsidy_status": "查补贴发放", "request_help": "求助", "call_family": "找家人",
    "find_service": "找服务站", "ask_activity": "问活动", "request_home_visit": "要上门服务",
    "handoff_human": "找人工", "report_health": "报健康数据", "nlu_fallback": "说的话没听懂",
    "ask_my_bookings": "查自己订的",
}
REASON_ZH = {
    "asked_for_human": "老人要求转人工", "two_fallbacks": "连续两次没听懂",
    "service_down": "系统故障", "action_failed": "办理出错", "unknown_resident": "查不到登记信息",
    "rasa_down": "对话服务故障", "help_request": "紧急求助", "emergency": "紧急求助",
    "help_unacknowledged": "求助还没人接，老人在问",
}
CHANNEL_ZH = {"phone": "电话", "speaker": "音箱", "web": "家属网页"}


def _lines(transcript: tuple[Any, ...]) -> list[TranscriptLine]:
    return [t if isinstance(t, TranscriptLine) else TranscriptLine.from_dict(t) for t in transcript]


def summarise(request: HandoffRequest, resident: Optional[tuple[str, str]]) -> str:
    """`resident`: (name, id) of the resident the conversation is for, when known."""
    if resident is not None:
        who = f"{resident[0]}（{resident[1]}）"
    else:
        who = f"未登记来电（{request.caller or request.conversation_id}）"
    lines = _lines(request.transcript)
    parts = [CHANNEL_ZH[request.channel] + who if request.channel in CHANNEL_ZH else who]
    why = REASON_ZH.get(request.reason, request.reason)
    if request.emergency and why != REASON_ZH["emergency"]:
        parts.append(REASON_ZH["emergency"])
    parts.append(why)
    wants = [INTENT_ZH[line.intent] for line in lines if line.intent in INTENT_ZH]
    if wants:
        parts.append("想" + "、".join(dict.fromkeys(wants)))
    if request.keys:
        parts.append(f"按键：{request.keys}")
    last_words = next((line.text for line in reversed(lines) if line.role in ("elder", "user", "family") and line.text), "")
    if last_words:
        parts.append(f"最后说：「{last_words[:40]}」")
    return "；".join(parts)
