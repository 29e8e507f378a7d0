"""Wording for complaints and loneliness: two short sentences, numbers and times as words, no promise
that did not happen."""
from datetime import date, datetime, timezone

import pytest

from actions import care_replies
from services.types import ActivityView, CareOfferView, CareSignalView, FamilyView, LonelinessView, TicketView
from zhtext.feelings import detect_loneliness
from zhtext.symptoms import Complaint, parse_complaint

TODAY = date(2025, 11, 5)
NOW = datetime(2025, 11, 5, 2, 0, tzinfo=timezone.utc)


class Obs:
    def __init__(self, alerted=False, family_told=(), clinic_name=None):
        self.alerted, self.family_told, self.clinic_name = alerted, family_told, clinic_name


def sentences(text: str) -> int:
    return sum(text.count(p) for p in "。？！")


def no_digits(text: str) -> bool:
    return not any(c.isascii() and c.isdigit() for c in text)


@pytest.mark.parametrize(
    "text, obs, expected",
    [
        ("两条腿肿了好几天了", Obs(True, ("女儿",), "赵王村卫生室"),
         "记下了，您这几天腿肿。我已经告诉您女儿了，会请赵王村卫生室的医生给您打电话。"),
        ("腿肿了三天了", Obs(True, ("女儿", "老伴", "儿子")),  # at most two named
         "记下了，您这几天腿肿。我已经告诉您女儿和老伴了，会请卫生室的医生给您打电话。"),
        ("膝盖疼得走不动道", Obs(True, ()), "记下了，您膝盖疼得走路费劲。我已经告诉工作人员了，会请卫生室的医生给您打电话。"),
        ("吃了降压药以后就恶心", Obs(True, ("儿子",)), "记下了，您吃了药以后恶心。我已经告诉您儿子了，会请医生给您打电话，问问药的事。"),
        ("这几天老咳嗽", Obs(), "记下了，您这几天咳嗽。要是过两天还这样，就去卫生室让医生看看。"),
        ("黑夜睡不着觉", Obs(clinic_name="晋华街道社区卫生服务站"), "记下了，您睡不好。要是过两天还这样，就去社区卫生服务站让医生看看。"),
        ("老忘事", Obs(), "记下了，您老忘事。下回去卫生室，让医生给您查查。"),
        ("啥也不想吃", Obs(), "记下了，您不想吃饭。要是过两天还这样，就去卫生室让医生看看。"),
        ("腰疼一个礼拜了", Obs(), "记下了，您这一个礼拜腰疼。要是过两天还这样，就去卫生室让医生看看。"),
        ("昨天开始发烧", Obs(), "记下了，您从昨天起发烧。要是过两天还这样，就去卫生室让医生看看。"),
    ],
)
def test_symptom_answers(text, obs, expected):
    answer = care_replies.symptom_recorded(parse_complaint(text), obs)
    assert answer == expected
    assert sentences(answer) <= 2 and no_digits(answer)


def test_missing_a_late_husband_or_wife_is_not_called_boredom():
    offer = CareOfferView("visit", ticket=TicketView(3, "r-0007", "companionship", "陪聊", None, "open", NOW))
    answer = care_replies.loneliness_answer(detect_loneliness("老伴走了以后，一个人过"), lonely(offer), TODAY)
    assert answer.startswith("您是想老伴了。")


def test_someone_elses_symptom():
    assert care_replies.someone_elses_symptom(parse_complaint("他头晕")) == "他头晕，要是过两天还不见好，带他去卫生室看看。"


@pytest.mark.parametrize("days, when", [(None, ""), (0, "今天"), (1, "从昨天起"), (3, "这几天"), (7, "这一个礼拜"),
                                        (15, "这半个来月"), (40, "这些日子")])
def test_how_long_is_said_back(days, when):
    c = Complaint("cough", "咳嗽", days=days)
    assert care_replies.symptom_recorded(c, Obs()).startswith(f"记下了，您{when}咳嗽。")


def lonely(offer: CareOfferView) -> LonelinessView:
    signal = CareSignalView(1, "r-0002", "lonely", "闷得慌", "", "speaker", offer.kind, NOW)
    return LonelinessView(signal, offer, 1, False)


ACTIVITY = ActivityView("cc-kangle", "榆次区晋华街道康乐社区养老服务中心", "阅览室读报", 2, "14:00", "16:00")


@pytest.mark.parametrize(
    "text, offer, expected",
    [
        ("家里就我一个人，闷得慌", CareOfferView("activity", activity=ACTIVITY, activity_day=TODAY),
         "一个人在家，是挺闷的。今天下午两点，康乐社区养老中心有阅览室读报，去坐坐吧？"),
        ("想找个人说说话", CareOfferView("activity", activity=ACTIVITY, activity_day=date(2025, 11, 6)),
         "好呀，我陪您说说话。明天下午两点，康乐社区养老中心有阅览室读报，去坐坐吧？"),
        ("孩子们都不来看我", CareOfferView("family", family=FamilyView("f-1", "李红霞", "女儿", "150****1003", True)),
         "想孩子们了吧。想跟女儿说说话，您就说'给我女儿打电话'。"),
        ("儿子一年到头也不回来", CareOfferView("family", family=FamilyView("f-2", "张建国", "儿子", None, True)),
         "想您儿子了吧。想跟儿子说说话，您就说'给我儿子打电话'。"),
        ("陪我聊会儿吧", CareOfferView("visit"),  # not booked yet: asked, filed on the elder's yes
         "好呀，我陪您说说话。要不要我请探访关爱的人这两天上门陪您聊聊？"),
        ("陪我聊会儿吧", CareOfferView("visit", ticket=TicketView(3, "r-0007", "companionship", "陪聊", None, "open", NOW)),
         "好呀，我陪您说说话。我请探访关爱的人这两天上门陪您聊聊，来之前先给您打电话。"),  # filed by an older signal
        ("孤孤单单的", CareOfferView("visit", ticket=TicketView(3, "r-0007", "companionship", "陪聊", None, "open", NOW),
                                     already_arranged=True),
         "一个人在家，是挺闷的。探访关爱的人这两天就上门看您，来之前先给您打电话。"),
    ],
)
def test_loneliness_answers(text, offer, expected):
    answer = care_replies.loneliness_answer(detect_loneliness(text), lonely(offer), TODAY)
    assert answer == expected
    assert sentences(answer) == 2 and no_digits(answer)


def test_a_visit_offer_while_another_read_back_waits_says_how_to_ask():
    answer = care_replies.loneliness_answer(detect_loneliness("家里就我一个人，闷得慌"), lonely(CareOfferView("visit")),
                                            TODAY, can_ask=False)
    assert answer == "一个人在家，是挺闷的。想有人上门陪您说说话，您就说'请人上门陪我说说话'。"
    assert sentences(answer) == 2 and "？" not in answer


@pytest.mark.parametrize("name, short", [
    ("榆社县北寨乡赵王村居家养老服务驿站", "赵王村驿站"), ("灵石县两渡镇段家庄村幸福小院", "段家庄村幸福小院"),
    ("长治市潞州区太东街道金融社区食堂", "金融社区食堂"), ("康乐社区养老服务中心", "康乐社区养老中心"), ("赵王村卫生室", "赵王村卫生室"),
])
def test_place_names_as_neighbours_say_them(name, short):
    assert care_replies.short_place(name) == short
