"""The tokenizer's pinyin lemmas: cached per token, identical to converting afresh."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bot"))

from components.pinyin_tokenizer import pinyin_of  # noqa: E402


def test_cached_pinyin_is_the_same_as_a_fresh_conversion():
    words = ["订餐", "定餐", "津贴", "金贴", "长治", "重新", "银行", "行", "了", "abc", "3号", "明儿个", "订餐"]
    assert [pinyin_of(w) for w in words] == [pinyin_of.__wrapped__(w) for w in words]
    assert pinyin_of("订餐") == pinyin_of("定餐") == "ding_can"
    assert pinyin_of.cache_info().hits >= 1
