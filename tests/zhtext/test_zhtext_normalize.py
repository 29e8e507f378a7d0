import pytest

from zhtext.normalize import clean, strip_fillers


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("我 要 两 份", "我要两份"),  # Vosk puts spaces between words
        ("  明儿个   晌午  ", "明儿个晌午"),
        ("我\t要\n三份", "我要三份"),
        ("血压１４５／９０", "血压145/90"),  # full-width digits and slash
        ("ＡＢＣ", "ABC"),
        ("好的，谢谢！", "好的，谢谢！"),
        ("好的,谢谢!", "好的，谢谢！"),  # ASCII punctuation → Chinese
        ("是吗?", "是吗？"),
        ("体温37.5度.", "体温37.5度。"),  # decimal point kept, full stop converted
        ("11：30开饭", "11:30开饭"),  # colon between digits stays ASCII
        ("时间：明天", "时间：明天"),
        ("救命！！！", "救命！"),  # repeated punctuation collapsed
        ("嗯……", "嗯…"),
        ("血压 145 90", "血压145 90"),  # typed numbers keep one separating space
        ("hello world", "hello world"),
        ("“送到家”", "送到家"),
        ("", ""),
        (None, ""),
        ("　全角空格　", "全角空格"),
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("嗯那个要俩", "要俩"),
        ("啊就是三份", "三份"),
        ("呃就是说明天", "明天"),
        ("两份", "两份"),
    ],
)
def test_strip_fillers(raw, expected):
    assert strip_fillers(raw) == expected


def test_clean_is_idempotent():
    for s in ["我 要 两 份 ,好吗?", "血压１４５／９０", "嗯……那个"]:
        assert clean(clean(s)) == clean(s)
