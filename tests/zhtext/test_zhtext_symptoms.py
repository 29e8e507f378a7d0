import dataclasses

import pytest

from zhtext.emergency import detect_emergency
from zhtext.health import parse_reading
from zhtext.symptoms import BODY_PARTS, SYMPTOM_KINDS, SYMPTOM_ZH, Complaint, parse_complaint, parse_complaints


@pytest.mark.parametrize(
    "text, kind, body",
    [
        # the elders' own words from the issue
        ("膝盖疼得走不动道", "pain", "膝盖"),
        ("这几天老咳嗽", "cough", None),
        ("吃了降压药以后就恶心", "nausea", None),
        ("两条腿肿了好几天了", "swelling", "腿"),
        ("黑夜睡不着觉", "sleep", None),
        ("啥也不想吃", "appetite", None),
        # sleep
        ("晚上老睡不着", "sleep", None), ("我失眠", "sleep", None), ("这阵子睡不好觉", "sleep", None),
        ("半夜醒了就睡不着", "sleep", None), ("睡 不 着", "sleep", None), ("一晚上醒好几回", "sleep", None),
        # swelling
        ("脚肿了", "swelling", "脚"), ("腿也有点肿", "swelling", "腿"), ("脚脖子肿得老高", "swelling", "脚"),
        ("脸有点浮肿", "swelling", None), ("两条腿都肿了", "swelling", "腿"),
        # nausea
        ("老想吐", "nausea", None), ("有点反胃", "nausea", None), ("早上起来犯恶心", "nausea", None),
        # appetite
        ("不想吃饭", "appetite", None), ("吃不下东西", "appetite", None), ("没胃口", "appetite", None),
        ("甚也不想吃", "appetite", None), ("这两天胃口不好", "appetite", None), ("吃啥也不香", "appetite", None),
        # pain, with the body part
        ("腰疼", "pain", "腰"), ("头疼", "pain", "头"), ("腿疼", "pain", "腿"), ("波棱盖疼", "pain", "膝盖"),
        ("后背酸疼", "pain", "背"), ("肩膀老是疼", "pain", "肩膀"), ("牙疼得睡不着", "pain", "牙"),
        ("嗓子疼", "pain", "嗓子"), ("胳膊抬起来就疼", "pain", "胳膊"), ("浑身酸痛", "pain", "浑身"),
        ("脑袋一阵一阵地疼", "pain", "头"), ("膝盖这儿老疼", "pain", "膝盖"), ("腰腿疼", "pain", None),
        ("疼得厉害", "pain", None), ("关节炎犯了", "pain", None),
        # cough
        ("咳嗽", "cough", None), ("一直咳", "cough", None), ("嗓子有痰", "cough", None), ("老伴说我咳得厉害", "cough", None),
        # dizziness
        ("头晕", "dizziness", None), ("头昏", "dizziness", None), ("脑袋晕乎乎的", "dizziness", None),
        ("起来的时候头发晕", "dizziness", None), ("头 晕", "dizziness", None), ("头有点晕", "dizziness", None),
        # constipation, diarrhea
        ("便秘", "constipation", None), ("好几天没大便了", "constipation", None), ("解不下来", "constipation", None),
        ("一个礼拜没解大手了", "constipation", None), ("拉肚子", "diarrhea", None), ("拉稀", "diarrhea", None),
        # fatigue
        ("浑身没劲", "fatigue", "浑身"), ("浑身乏", "fatigue", None), ("一点力气也没", "fatigue", None),
        ("身上没劲儿", "fatigue", "浑身"), ("没精神", "fatigue", None), ("腿没劲", "fatigue", "腿"),
        # palpitation (not acute), breathless (mild)
        ("有点心慌", "palpitation", None), ("心里突突的", "palpitation", None),
        ("气短", "breathless", None), ("走两步就喘", "breathless", None), ("上楼就喘", "breathless", None),
        # fever, itch, urination, memory
        ("发烧了", "fever", None), ("有点低烧", "fever", None), ("身上发烫", "fever", None),
        ("身上痒", "itch", "浑身"), ("起疹子了", "itch", None), ("胳膊上起红疙瘩", "itch", None),
        ("老起夜", "urination", None), ("尿频", "urination", None), ("撒尿疼", "urination", None),
        ("老忘事", "memory", None), ("记性不好了", "memory", None), ("转身就忘", "memory", None),
        # others
        ("手麻", "numbness", "手"), ("腿脚不利索", "mobility", None), ("烧心", "stomach", None),
        ("眼睛看不清", "vision", None), ("我不舒服", "unwell", None), ("浑身难受", "unwell", None),
    ],
)
def test_complaints(text, kind, body):
    c = parse_complaint(text)
    assert c is not None, text
    assert c.kind == kind, (text, c)
    assert c.kind in SYMPTOM_KINDS and c.kind in SYMPTOM_ZH
    if body is not None:
        assert c.body_part == body, (text, c)
    assert c.body_part is None or c.body_part in BODY_PARTS
    assert c.words and c.words in text.replace(" ", "")


@pytest.mark.parametrize(
    "text",
    [
        "我想吃饺子",
        "睡觉前订个饭",
        "疼我的孙子",  # 疼 = to dote on
        "奶奶最疼我",
        "血压一百四十五到九十",  # a reading, zhtext.health
        "体温三十七度五",
        "我想订明天的午饭",
        "不想吃饺子了，想吃面",  # a change of order, not a lost appetite
        "这饭烧得真好",
        "咳，别提了",  # a sigh
        "这电视真没劲",  # boring
        "这事真让人头疼",
        "让人头疼的事多着呢",
        "心疼我闺女",
        "不咳嗽了",
        "头不疼了",
        "没有恶心",
        "腿不肿了",
        "咳嗽好多了",
        "头疼已经好了",
        "我睡得挺好",
        "能吃能睡",
        "这椅子坐着不舒服",
        "心里难受",  # a feeling (zhtext.feelings), not a symptom
        "一个人待着，心里不得劲",
        "歇歇喘口气",
        "明天有啥活动",
        "给我儿子打电话",
        "高龄津贴发了没",
        "我一个人在家",
        "",
        None,
    ],
)
def test_not_complaints(text):
    assert parse_complaint(text) is None, (text, parse_complaint(text))


@pytest.mark.parametrize(
    "text, days",
    [
        ("这几天老咳嗽", 3),
        ("两条腿肿了好几天了", 3),
        ("咳嗽三天了", 3),
        ("三天了，拉不出来", 3),
        ("头晕一个礼拜了", 7),
        ("腰疼一个星期了", 7),
        ("两个礼拜睡不好", 14),
        ("腰疼半个月了", 15),
        ("不想吃饭一个多月了", 30),
        ("这两天睡不好", 2),
        ("两三天了头晕", 2),  # a spoken range: the sure, lower end
        ("十来天了腿肿", 10),
        ("腿疼3天了", 3),
        ("昨天开始发烧", 1),
        ("从前天起就拉肚子", 2),
        ("这两天更厉害了，都一个礼拜了，腿肿", 7),  # the longest stretch said
        ("腿肿", None),
        ("老咳嗽", None),
        ("昨天吃了饺子，肚子疼", None),  # 昨天 says when they ate, not how long it hurts
        ("拉肚子，一天三回", None),  # a frequency
        ("三月份开始腰疼", None),  # March, not three months
    ],
)
def test_how_long(text, days):
    c = parse_complaint(text)
    assert c is not None, text
    assert c.days == days, (text, c)


@pytest.mark.parametrize(
    "text, after",
    [
        ("吃了降压药以后就恶心", True),
        ("一吃药就反胃", True),
        ("换了新药以后头晕", True),
        ("降压药吃了以后腿肿了", True),
        ("自从吃了那个药，老睡不着", True),
        ("打完针以后身上痒", True),
        ("头疼，吃了药就好了", False),  # the medicine helped: the headache is the complaint
        ("没吃药，头晕", False),
        ("忘了吃药，头晕", False),
        ("头晕", False),
    ],
)
def test_after_medicine(text, after):
    c = parse_complaint(text)
    assert c is not None, text
    assert c.after_medicine is after, (text, c)


@pytest.mark.parametrize(
    "text, worse",
    [("越来越不想吃饭", True), ("腿肿得比前两天还厉害", True), ("咳嗽更厉害了", True), ("头晕加重了", True),
     ("头晕", False), ("这几天老咳嗽", False)],
)
def test_worse(text, worse):
    assert parse_complaint(text).worse is worse


@pytest.mark.parametrize(
    "text, limits",
    [("膝盖疼得走不动道", True), ("腿疼，走不了路", True), ("腰疼得下不了炕", True), ("腿肿得走路都费劲", True),
     ("走不动道了", True), ("腿疼", False), ("头疼得睡不着", False)],
)
def test_limits_walking(text, limits):
    assert parse_complaint(text).limits_walking is limits


def test_several_complaints_in_order_one_per_kind():
    got = parse_complaints("头晕，还老恶心，头也晕乎乎的")
    assert [c.kind for c in got] == ["dizziness", "nausea"]
    # a vague "不舒服" gives way to the specific complaint said with it
    assert [c.kind for c in parse_complaints("身上不舒服，老咳嗽")] == ["cough"]
    # 疼得走不动道 is one pain that limits walking, not a pain plus a mobility complaint
    assert [c.kind for c in parse_complaints("膝盖疼得走不动道")] == ["pain"]


def test_someone_elses_complaint_is_marked():
    assert parse_complaint("我老伴一直咳嗽").about == "老伴"
    assert parse_complaint("老头子腿疼").about == "老伴"
    assert parse_complaint("他头晕").about == "他"
    assert parse_complaint("儿子说我老咳嗽").about is None  # 我 is nearer: the speaker's own
    assert parse_complaint("我腿疼").about is None


def test_the_issue_example_in_full():
    assert parse_complaint("两条腿肿了好几天了") == Complaint(
        kind="swelling", words="两条腿肿了", body_part="腿", days=3, after_medicine=False, worse=False,
        limits_walking=False, about=None)


def test_frozen():
    c = parse_complaint("腰疼")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.kind = "x"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["胸口疼", "喘不上气", "摔倒了起不来", "嘴歪了", "心慌得厉害", "头晕得站不住"])
def test_acute_words_belong_to_the_emergency_detector(text):
    """The gateway runs the emergency detector first; these must reach it, whatever the parser says."""
    assert detect_emergency(text) is not None


@pytest.mark.parametrize("text", ["这几天老咳嗽", "两条腿肿了好几天了", "黑夜睡不着觉", "啥也不想吃", "有点心慌",
                                  "吃了降压药以后就恶心", "膝盖疼得走不动道", "腰疼", "气短", "老忘事"])
def test_mild_complaints_are_not_emergencies_nor_readings(text):
    assert detect_emergency(text) is None
    assert parse_reading(text) is None
