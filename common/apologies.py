"""What the elder hears when something of ours fails: one sentence per kind of failure, chosen by
the error's `code` (common.errors), so every channel apologises the same way for the same fault."""
from __future__ import annotations

from typing import Optional

# the dialogue could not answer (Rasa or the action server away, an action crashed): handed to a person
HANDED_OVER = "对不起，系统这会儿出了点毛病。我已经给您转人工，工作人员马上联系您。"
# a voice turn failed on our side: the elder may try again or ask for a person
TRY_AGAIN = "对不起，系统出了点毛病。您可以再说一遍，或者说“转人工”。"
# nothing usable was recognised
NOT_HEARD = "对不起，我没听清，请您再说一遍。"

_BY_CODE = {
    "rasa_unavailable": HANDED_OVER, "conversation_busy": HANDED_OVER, "action_failed": HANDED_OVER,
    "bad_audio": NOT_HEARD, "unsupported_audio": NOT_HEARD, "truncated_audio": NOT_HEARD,
    "empty_audio": NOT_HEARD, "audio_too_long": NOT_HEARD,
}


def apology_for(error: Optional[BaseException] = None, code: Optional[str] = None) -> str:
    """The sentence for `error` (or its `code`); any other failure gets TRY_AGAIN."""
    code = code or getattr(error, "code", None)
    return _BY_CODE.get(code or "", TRY_AGAIN)
