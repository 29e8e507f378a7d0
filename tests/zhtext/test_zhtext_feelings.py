import dataclasses

import pytest

from zhtext.feelings import LONELINESS_KINDS, LonelinessCue, detect_loneliness


@pytest.mark.parametrize(
    "text, kind, relation",
    [
        # the words
        ("家里就我一个人，闷得慌", "alone", None),
        ("孩子们都不来看我", "family_away", None),
        ("想找个人说说话", "wants_company", None),
        ("陪我聊会儿吧", "wants_company", None),
        # alone
        ("就剩我一个了", "alone", None), ("一个人在家怪孤单的", "alone", None), ("屋里冷冷清清的", "alone", None),
        ("没人跟我说话", "alone", None), ("连个说话的人都没有", "alone", None), ("闷得很", "alone", None),
        ("老伴走了以后，一个人过", "alone", None), ("我想老伴了", "alone", None), ("心里空落落的", "alone", None),
        ("整天没人说话", "alone", None), ("一个人过日子没意思", "alone", None), ("寂寞得很", "alone", None),
        ("家 里 就 我 一 个 人", "alone", None),  # Vosk spaces
        # family away, with whom
        ("儿子一年到头也不回来", "family_away", "儿子"), ("闺女好久不来看我了", "family_away", "女儿"),
        ("孩子们不常来看我", "family_away", None), ("我想孙子了", "family_away", "孙子"),
        ("没人来看我", "family_away", None), ("孩子们都忙得顾不上我", "family_away", None),
        ("就我一个人，儿子也不来看我", "family_away", "儿子"),  # the named son shapes the offer
        # wants company
        ("一个人待着，心里不得劲", "alone", None), ("没人跟俺拉话，憋屈得很", "alone", None),
        ("儿女都不在身边，没人说话", "family_away", None), ("孩子们好久没来了，想他们", "family_away", None),
        ("跟我说说话", "wants_company", None), ("咱俩聊聊", "wants_company", None),
        ("想跟人聊聊天", "wants_company", None), ("陪陪我", "wants_company", None), ("有个人陪我就好了", "wants_company", None),
    ],
)
def test_loneliness(text, kind, relation):
    cue = detect_loneliness(text)
    assert cue is not None, text
    assert (cue.kind, cue.relation) == (kind, relation), (text, cue)
    assert cue.kind in LONELINESS_KINDS
    assert cue.words and cue.words in text.replace(" ", "")


@pytest.mark.parametrize(
    "text",
    [
        "我想吃饺子",
        "就我一个人吃，订一份",  # a meal order for one
        "订一个人的饭",
        "我一个人去食堂",
        "我孙子来看我了",
        "孩子们常来看我",
        "我儿子明天来看我",
        "儿子说过两天来看我",
        "儿子不回来吃饭",  # about dinner, not about missing him
        "不孤单",
        "一点也不寂寞",
        "我不闷",
        "天气闷热",
        "想找个人修电视",
        "我在跟老伴聊天",
        "有拉家常的活动吗",  # ask_activity
        "我要陪聊服务",  # a home-visit request (陪聊 is a service)
        "那让人上门来陪我说说话",  # a home visit asked for
        "给我儿子打电话",
        "胸口闷",  # the emergency detector's
        "就我一个",  # the answer to "订几份"
        "谢谢你陪我说话",  # thanks for company had
        "找个客服跟我说说",  # a handoff
        "明天要去医院，找个人陪我去",  # an escort (陪诊)
        "去医院看病没人陪，能派个人不",
        "一个人在家摔倒了",  # an emergency, not loneliness
        "不想活了",  # the help path, never a chat offer
        "",
        None,
    ],
)
def test_not_loneliness(text):
    assert detect_loneliness(text) is None, (text, detect_loneliness(text))


def test_cue_is_frozen():
    cue = detect_loneliness("想找个人说说话")
    assert isinstance(cue, LonelinessCue)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cue.kind = "x"  # type: ignore[misc]
