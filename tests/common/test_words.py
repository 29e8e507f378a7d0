"""The shared words (common.words): one way to write and read each."""
import pytest

from common.words import ACK_TIMEOUT, CHANNEL_PATTERN, CHANNELS, Actor, Channel, TranscriptLine, role_of


@pytest.mark.parametrize("actor", [Actor.family(12), Actor.operator("op-li"), Actor.resident("r-0001"), Actor("service")])
def test_an_actor_reads_back_as_it_was_written(actor):
    assert Actor.parse(str(actor)) == actor


@pytest.mark.parametrize("text", ["", None, "family:", "family:abc", "stranger:1", "family:1 ", "operator:a b"])
def test_anything_else_is_no_actor(text):
    assert Actor.parse(text) is None


def test_only_a_family_member_writes_as_family():
    assert role_of("family:7") == "family" and Actor.parse("family:7").account_id == 7
    assert role_of("operator:op-li") == role_of(None) == role_of("family:x") == "elder"


def test_channels_and_their_pattern():
    assert CHANNELS == ("text", "speaker", "phone", "web")
    assert Channel.of("phone") is Channel.PHONE and Channel.of("carrier-pigeon") is Channel.TEXT
    assert Channel.of(None) is Channel.TEXT and CHANNEL_PATTERN == "^(text|speaker|phone|web)$"
    assert ACK_TIMEOUT.total_seconds() == 180


def test_a_transcript_line_round_trips_through_its_dict():
    line = TranscriptLine("elder", "我要订饭", "2026-12-04T01:00:00", "book_meal")
    assert TranscriptLine.from_dict(line.to_dict()) == line
    assert TranscriptLine.from_dict({"text": "喂"}).to_dict() == {"role": "elder", "text": "喂", "ts": None}
