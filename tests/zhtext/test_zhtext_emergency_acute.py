"""Acute phrases added to the emergency detector while the everyday-complaint parser was built
(zhtext.symptoms): they stay on the help path; the mild forms beside them do not."""
import pytest

from zhtext.emergency import detect_emergency, is_despair


@pytest.mark.parametrize(
    "text, kind, hedged",
    [
        ("心慌得厉害", "chest_pain", False), ("心跳得好快，我害怕", "chest_pain", False),
        ("一喘气胸口就疼得厉害", "chest_pain", False), ("胸口像压了块石头 疼", "chest_pain", False),
        ("心口绞着疼", "chest_pain", False), ("我心脏难受得不行", "chest_pain", False),
        ("突然看不见了", "stroke", False), ("老头子突然说不出话了", "stroke", False), ("脸歪了", "stroke", False),
        ("一条腿突然不听使唤了 我害怕", "stroke", False),
        ("噎住了", "breathing", False), ("我老伴噎着了", "breathing", False), ("哮喘犯了", "breathing", False),
        ("喘气困难 快来", "breathing", False),
        ("老伴抽搐了", "call_for_help", False), ("喝了农药", "call_for_help", False), ("药吃多了 咋办", "call_for_help", False),
        ("腰闪了 动不了 一动就疼", "call_for_help", False), ("我被困在屋里出不去了", "call_for_help", False),
        ("肚子疼得打滚", "call_for_help", False), ("有贼", "call_for_help", False), ("快叫医生", "call_for_help", False),
        ("帮帮我", "call_for_help", False), ("救我", "call_for_help", False),
        ("腿可能摔断了", "fall", False), ("我倒在厨房了", "fall", False), ("我滑了一跤 腿动不了", "fall", False),
        ("我胳膊摔得抬不起来", "fall", False), ("我在地上躺了半天了", "fall", False),
        ("我老伴倒在地上 怎么叫都不答应", "fall", False),
        ("手割破了血流个不停", "bleeding", False), ("拉了一裤子黑的 头晕", "bleeding", False),
        ("屋里有煤烟味儿，我头晕", "fire_gas", False), ("我不知道我在哪了 回不去家", "lost", False),
        # words of not wanting to live: on record and a person calls, but the bot asks first
        ("不想活了", "call_for_help", True), ("活着没意思", "call_for_help", True), ("我活够了", "call_for_help", True),
        ("疼死了", "call_for_help", True), ("手脚冰凉 浑身冒冷汗", "call_for_help", True),
    ],
)
def test_acute_phrases(text, kind, hedged):
    m = detect_emergency(text)
    assert m is not None, text
    assert (m.kind, m.hedged) == (kind, hedged), (text, m)


@pytest.mark.parametrize(
    "text",
    ["有点心慌", "心跳得快", "头疼", "腿疼", "这几天老咳嗽", "两条腿肿了好几天了", "吃了降压药以后就恶心", "黑夜睡不着觉",
     "啥也不想吃", "气短", "走两步就喘", "家里就我一个人，闷得慌", "孩子们都不来看我", "陪我聊会儿吧",
     "紧急联系人是谁", "帮帮我订个饭", "去地里打农药", "我出不去门，腿疼", "这药吃完了，再送点"],
)
def test_mild_or_everyday_words_are_not_emergencies(text):
    assert detect_emergency(text) is None, (text, detect_emergency(text))


def test_despair_is_told_apart_from_a_body_in_danger():
    assert is_despair(detect_emergency("人老了不中用了，活着没意思"))
    assert is_despair(detect_emergency("我不想活了"))
    assert not is_despair(detect_emergency("救命"))
    assert not is_despair(detect_emergency("不想活了，喝了农药"))  # the poisoning is what to act on
    assert not is_despair(None)
