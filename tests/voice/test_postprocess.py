"""Recogniser text → NLU text: joining, numbers, near-miss domain words (voice/postprocess.py).

The domain words are given, as the voice service gives them (tests/voice/words.py: the demo database's,
without a database)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.voice.words import seeded_domain_words
from voice.postprocess import Normalizer, join_words, numbers_to_digits
from voice.settings import DomainWords

REPO = Path(__file__).resolve().parents[2]
NORMALIZER = Normalizer(seeded_domain_words())
normalize_transcript = NORMALIZER.normalize
fix_domain_words = NORMALIZER.fix_domain_words


# ---------------------------------------------------------------------------------------------- joining

@pytest.mark.parametrize(("raw", "text"), [
    ("我 要 订 两 份", "我要订两份"),
    ("明天 中午 订 饭", "明天中午订饭"),
    ("", ""),
    ("   ", ""),
    ("[unk]", ""),
    ("我 [unk] 要 <UNK> 饭", "我要饭"),
    # Korean (the test model): words stay separated.
    ("점심 먹으러 가자", "점심 먹으러 가자"),
    ("오후 [9] 시", "오후 [9] 시"),
    ("hello world", "hello world"),
    # ASCII digits keep their space, as in the training data ("血压 130 85").
    ("血压 130 85", "血压 130 85"),
    # Chinese numerals join when they make one number, and keep a space where one number ends.
    ("一百 四十五", "一百四十五"),
    ("血压 一百 四十五 九十", "血压一百四十五 九十"),
    ("一百四十五 九十", "一百四十五 九十"),
    ("七 点 八", "七点八"),
    ("一 四 五", "一四五"),
    ("二十 四 号", "二十四号"),
])
def test_join_words(raw, text):
    assert join_words(raw) == text


def test_join_keeps_mixed_script_words_apart():
    assert join_words("我 用 微信 app") == "我用微信 app"


# ---------------------------------------------------------------------------------------------- numbers

def test_numbers_stay_chinese_by_default():
    # The NLU was trained on Chinese numerals (103 portion examples with 一/两…份, none with digits).
    assert normalize_transcript("给 我 订 两 份") == "给我订两份"
    assert normalize_transcript("三 号 中午") == "三号中午"
    assert normalize_transcript("血压 一百 四十五 九十") == "血压一百四十五 九十"


@pytest.mark.parametrize(("text", "digits"), [
    ("给我订两份", "给我订2份"),
    ("我要一份午饭", "我要1份午饭"),
    ("三号中午", "3号中午"),
    ("十二月五号的午饭", "12月5号的午饭"),
    ("二十四号那天吃啥", "24号那天吃啥"),
    ("血压一百四十五 九十", "血压145 90"),
    ("高压一百五低压九十五", "高压150低压95"),
    ("体温三十六点五", "体温36.5"),
    ("血糖七点八", "血糖7.8"),
    ("我住三号楼", "我住3号楼"),
])
def test_numbers_to_digits_where_the_dialogue_counts(text, digits):
    assert numbers_to_digits(text) == digits


@pytest.mark.parametrize("text", [
    "等一下", "再说一点", "我一个人住", "我一个人", "血压高了一点", "第一次", "下礼拜一订饭", "三点半去",
    "两三份", "十几份", "一份半", "一起去", "七点八", "跟我说一遍", "一百四十五",  # no measure, no date, no reading
    "日间照料中心", "看一看", "我想一想",
])
def test_numbers_to_digits_leaves_everything_else(text):
    assert numbers_to_digits(text) == text


def test_digits_option_of_normalize():
    assert normalize_transcript("定 两 份 餐", digits=True) == "定2份餐"
    assert normalize_transcript("我 要 定 餐 两 份", digits=True) == "我要订餐2份"


# ---------------------------------------------------------------------------------------------- domain words

@pytest.mark.parametrize(("raw", "text"), [
    ("定 餐", "订餐"),
    ("我 要 定 餐", "我要订餐"),
    ("高 林 津 贴", "高龄津贴"),
    ("我 想 申请 高龄 金 贴", "我想申请高龄津贴"),
    ("养老 一 站", "养老驿站"),
    ("赵王 村 一 站", "赵王村驿站"),
    ("明天 中午 不 在 驿 占 吃 了", "明天中午不在驿站吃了"),
    ("义 站", "驿站"),
    ("陪 真", "陪诊"),
    ("送 到 加", "送到家"),
    ("帮 我 送 要", "帮我送药"),
    ("就 命 啊", "救命啊"),
    ("适 老 话 改 造", "适老化改造"),
    ("日 间 找 料 中 心", "日间照料中心"),
    ("两渡镇 姓 福 小 院 在 哪", "两渡镇幸福小院在哪"),
    ("段 家 装 村", "段家庄村"),
    ("鱼 社 县", "榆社县"),
    ("探 放 关 爱", "探访关爱"),
    ("血 养 九十七", "血氧九十七"),
    ("新 率 八十", "心率八十"),
    ("老 半 儿", "老伴儿"),
    ("喊 我 规 女 过来", "喊我闺女过来"),
    ("金 容 社区 食堂", "金融社区食堂"),
    ("保 姐", "保洁"),
])
def test_near_miss_domain_words_are_fixed(raw, text):
    assert normalize_transcript(raw) == text


@pytest.mark.parametrize("text", [
    "坐一站就到",      # 一站 is a common word: alone it stays (in 养老一站 / 赵王村一站 it is fixed)
    "一站",
    "来一碗饭",        # not 一晚饭: 一碗 is a word that crosses the window
    "血压好高呀",      # not 高压: 呀 is a particle
    "我找老板",        # 老板 is a common word, not 老伴
    "立法",
    "我就明天去",      # 就明 shares no character with 救命
    "我刚吃完饭",      # 完 is a complement here, not 晚
    "今晚饭吃啥",
    "找饭吃",
    "主语",            # both characters differ from 助浴: too far
    "我要订餐",
    "高龄津贴",
    "定饭",            # in the user dictionary itself
])
def test_correct_or_ambiguous_text_is_left_alone(text):
    assert fix_domain_words(text) == text


def test_only_the_words_given_are_corrected_towards():
    assert Normalizer().normalize("定 餐") == "定餐"  # no domain words: joined, nothing corrected
    assert Normalizer(DomainWords.of(["订餐"])).normalize("定 餐") == "订餐"
    # a name the database holds and no dictionary has: corrected because it was given
    assert "锦纶社区" in seeded_domain_words().words
    assert fix_domain_words("锦伦社区") == "锦纶社区"
    assert Normalizer(DomainWords.of(["订餐"])).fix_domain_words("锦伦社区") == "锦伦社区"


def test_domain_words_keep_their_first_place_and_highest_weight():
    words = DomainWords.of(["驿站", ("订餐", 2000), " 驿站 ", ("订餐", 800), ""])
    assert words.weights == (("驿站", 500), ("订餐", 2000))


def _examples(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s+- (.*)$", line)
        if m:
            out.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)))
    return out


def test_hand_written_training_examples_are_not_changed():
    """Every hand-written NLU example is correct text: fixing must leave all of them alone."""
    files = [p for p in sorted((REPO / "nlu_data" / "train").glob("*.yml"))
             if p.name not in ("lookups.yml", "generated_noisy.yml")]
    examples = [e for p in files for e in _examples(p)]
    assert len(examples) > 2000
    changed = [(e, fixed) for e in examples if (fixed := fix_domain_words(e)) != e]
    assert changed == []


def test_same_sound_training_copies_are_mostly_fixed():
    """generated_noisy.yml holds the hand-written examples with same/near-sound characters swapped in."""
    noisy = _examples(REPO / "nlu_data" / "train" / "generated_noisy.yml")
    fixed = sum(fix_domain_words(e) != e for e in noisy)
    assert fixed / len(noisy) > 0.2  # measured 587 of 2406; many swaps hit words outside the dictionary


def test_normalize_is_idempotent_and_fast():
    raws = ["我 要 定 餐", "高 林 津 贴", "血压 一百 四十五 九十", "点 菜", "明天 中午 订 两 份 饭 送 到 加"]
    for raw in raws:
        once = normalize_transcript(raw)
        assert normalize_transcript(once) == once
    start = time.perf_counter()
    for _ in range(20):
        for raw in raws:
            normalize_transcript(raw)
    per_call = (time.perf_counter() - start) / (20 * len(raws))
    assert per_call < 0.02  # it runs on every changed partial; measured about 1 ms
