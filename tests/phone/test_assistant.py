"""Who a call acts for: a family member with several elders chooses by name or key."""
from phone.assistant import CallerAssistant, guest_id
from services.types import CallerView

FAMILY = CallerView("family", "13700009999", family_member_id="f-1", name="常建军", relation="儿子",
                    residents=(("r-0008", "刘玉梅"), ("r-0021", "常富贵")))


def test_a_resident_acts_for_themselves():
    a = CallerAssistant(None, CallerView("resident", "13835410001", resident_id="r-0001"), "abc")
    assert a.sender == a.resident_id == "r-0001" and not a.choosing


def test_an_unknown_caller_is_a_guest_under_their_number():
    a = CallerAssistant(None, CallerView("unknown", "02112345678"), "abc@host")
    assert a.sender == "tel-02112345678" and a.resident_id is None
    assert guest_id(CallerView("unknown", ""), "x@y").startswith("tel-x-y")


def test_one_consenting_elder_needs_no_question():
    one = CallerView("family", "1", residents=(("r-0001", "王桂兰"),))
    a = CallerAssistant(None, one, "abc")
    assert a.resident_id == "r-0001" and not a.choosing


def test_several_elders_by_key_or_by_name_heard_roughly():
    a = CallerAssistant(None, FAMILY, "abc")
    assert a.choosing and a.resident_id is None
    assert a.match_name("给刘玉梅订饭") == 1
    assert a.match_name("常富桂") == 2, "one character misheard, same sound"
    assert a.match_name("今天天气怎么样") is None
    assert a.choose(3) is None and a.choosing
    assert a.choose(2) == "常富贵" and a.resident_id == "r-0021" and not a.choosing
