"""The one summary line every channel's handoff gets (services.handoff_summary)."""
from common.words import TranscriptLine
from services.handoff_summary import summarise
from services.types import HandoffRequest


def test_one_line_with_who_why_what_they_wanted_and_last_words():
    transcript = ({"role": "elder", "text": "我要订饭", "intent": "book_meal"},
                  {"role": "bot", "text": "您要订哪天的饭？"},
                  TranscriptLine("elder", "找个真人", intent="handoff_human"))
    summary = summarise(HandoffRequest("r-9999", "text", "asked_for_human", transcript), None)
    assert "\n" not in summary
    assert "r-9999" in summary and "老人要求转人工" in summary and "订饭" in summary and "找个真人" in summary


def test_a_phone_emergency_names_the_line_the_keys_and_the_emergency():
    request = HandoffRequest("tel-139", "phone", "rasa_down", ({"role": "elder", "text": "救命"},),
                             emergency=True, caller="139****5678", keys="9")
    summary = summarise(request, ("王桂兰", "r-0001"))
    assert summary.startswith("电话王桂兰（r-0001）")
    assert "紧急求助" in summary and "对话服务故障" in summary and "按键：9" in summary and "「救命」" in summary


def test_a_caller_nobody_registered_is_named_by_what_the_line_knows():
    summary = summarise(HandoffRequest("tel-139", "phone", "emergency", caller="139****5678"), None)
    assert summary == "电话未登记来电（139****5678）；紧急求助"
