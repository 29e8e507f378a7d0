"""Rasa's REST channel output put back together for clients."""
from assistant.turn import BotMessage, merge_rest_messages


def test_custom_payload_goes_back_on_its_text():
    raw = [
        {"recipient_id": "r-0001", "text": "订好了。"},
        {"recipient_id": "r-0001", "custom": {"speech_rate": "slow"}},
        {"recipient_id": "r-0001", "text": "还有别的事吗？", "buttons": [{"title": "对", "payload": "/affirm"}]},
    ]
    assert merge_rest_messages(raw) == (
        BotMessage("订好了。", (), {"speech_rate": "slow"}),
        BotMessage("还有别的事吗？", ({"title": "对", "payload": "/affirm"},), None),
    )


def test_a_second_custom_payload_stays_its_own_message():
    raw = [{"text": "好。", "custom": {"speech_rate": "slow"}}, {"custom": {"handoff": True}}]
    merged = merge_rest_messages(raw)
    assert merged[1] == BotMessage(None, (), {"handoff": True})


def test_empty_messages_are_dropped():
    assert merge_rest_messages([{"recipient_id": "x"}, {"text": ""}]) == ()
