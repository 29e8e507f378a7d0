"""One error root: every layer's errors are YinlingErrors with a code, and each code has one apology."""
import pytest

from assistant.rasa_client import ConversationBusy, RasaUnavailable
from assistant.turn import BadMessage
from common import apologies
from common.errors import YinlingError
from phone.errors import PhoneError, SipStartError
from services.errors import ServiceError, UnknownResident
from voice.errors import EmptyAudio, SynthesisError, VoiceError
from yinling.stack import StackError


@pytest.mark.parametrize("error", [
    UnknownResident("r-9"), ServiceError("x"), VoiceError("x"), EmptyAudio("x"), PhoneError("x"),
    SipStartError("x"), RasaUnavailable("x"), ConversationBusy("x"), BadMessage("x"), StackError("x"),
])
def test_every_layer_raises_from_one_root_with_a_code(error):
    assert isinstance(error, YinlingError) and error.code and error.code != "error"


def test_bad_message_is_still_a_value_error():
    assert isinstance(BadMessage("empty"), ValueError)


def test_each_failure_has_its_apology():
    assert apologies.apology_for(RasaUnavailable("down")) == apologies.HANDED_OVER
    assert apologies.apology_for(code="action_failed") == apologies.HANDED_OVER
    assert apologies.apology_for(EmptyAudio("nothing")) == apologies.NOT_HEARD
    assert apologies.apology_for(SynthesisError("espeak")) == apologies.TRY_AGAIN
    assert apologies.apology_for(RuntimeError("anything")) == apologies.TRY_AGAIN
