"""Tests for the same-sound noise generator (zhtext.homophones, tools/noisy_nlu.py).

Run with the Rasa environment (it has PyYAML and pypinyin):
    .venv-rasa/bin/python -m pytest tests/nlu/test_noisy_generator.py
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _load_tool():
    # by path: a site-packages "tools" package would shadow the repo's namespace folder
    spec = importlib.util.spec_from_file_location("noisy_nlu", REPO / "tools" / "noisy_nlu.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["noisy_nlu"] = module
    spec.loader.exec_module(module)
    return module


noisy_nlu = _load_tool()
from zhtext.homophones import (  # noqa: E402
    CONFUSIONS,
    confusions_for,
    noisy_variants,
    substitutable_positions,
)

pypinyin = pytest.importorskip("pypinyin")

TRAIN = REPO / "nlu_data" / "train"
GENERATED = TRAIN / "generated_noisy.yml"
HELDOUT = REPO / "nlu_data" / "heldout" / "test.yml"
HELDOUT_NOISY = REPO / "nlu_data" / "heldout" / "test_noisy.yml"
TRAIN_SEED, HELDOUT_SEED = 7, 11


# --------------------------------------------------------------------------- pinyin


def _readings(ch: str) -> set[str]:
    return set(
        pypinyin.pinyin(ch, style=pypinyin.Style.NORMAL, heteronym=True)[0]
    )


def _fuzzy(p: str) -> str:
    """Collapse the usual near-sound pairs: z/zh c/ch s/sh, n/l, an/ang en/eng in/ing."""
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if p.startswith(a):
            p = b + p[len(a):]
            break
    if p.startswith("l"):
        p = "n" + p[1:]
    for a, b in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if p.endswith(a):
            p = p[: -len(a)] + b
            break
    return p


def sounds_alike(a: str, b: str) -> bool:
    ra, rb = _readings(a), _readings(b)
    return bool(ra & rb) or bool({_fuzzy(x) for x in ra} & {_fuzzy(x) for x in rb})


# --------------------------------------------------------------------------- table


def test_table_is_large_and_well_formed():
    assert len(CONFUSIONS) >= 150
    for src, subs in CONFUSIONS.items():
        assert len(src) == 1 and ord(src) >= 128
        assert subs and src not in subs
        assert len(set(subs)) == len(subs)
        assert all(len(c) == 1 and ord(c) >= 128 for c in subs)


@pytest.mark.parametrize("src", sorted(CONFUSIONS))
def test_every_pair_is_same_or_near_pinyin(src):
    bad = [c for c in CONFUSIONS[src] if not sounds_alike(src, c)]
    assert not bad, f"{src} -> {bad} do not sound alike per pypinyin"


def test_most_pairs_are_exact_homophones():
    pairs = [(s, c) for s, subs in CONFUSIONS.items() for c in subs]
    exact = [p for p in pairs if _readings(p[0]) & _readings(p[1])]
    assert len(exact) / len(pairs) > 0.95


def test_domain_confusions_from_the_brief_are_present():
    wanted = {
        "订": "定", "餐": "参", "津": "金今", "贴": "铁", "驿": "易亿", "站": "战",
        "饭": "范", "菜": "彩", "医": "一", "血": "雪", "压": "鸭", "糖": "唐",
        "摔": "甩", "救": "就", "命": "明", "喘": "串", "胸": "凶", "疼": "腾",
        "儿": "而", "闺": "归", "话": "化", "电": "店", "理": "里", "浴": "玉",
        "送": "宋", "药": "要", "诊": "真", "修": "休", "转": "专", "工": "公",
        "遍": "便", "补": "不",
    }
    for src, subs in wanted.items():
        for c in subs:
            assert c in CONFUSIONS.get(src, ()), f"{src}->{c} missing"


def test_numerals_and_negation_are_not_sources():
    for ch in "一二两三四五六七八九十百零不没":
        assert confusions_for(ch) == ()


def test_ascii_has_no_confusions():
    assert confusions_for("a") == () and confusions_for("1") == ()
    assert substitutable_positions("SOS 145/90 ok") == []


# --------------------------------------------------------------------------- noisy_variants


SAMPLES = [
    "帮我订一份明天的午饭",
    "血压一百四十五到九十",
    "救命 我摔倒了 喘不上气",
    "给我儿子打电话",
    "我的高龄津贴发了没",
    "转人工 我要跟真人说",
    "血压145/90 心跳 88",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_same_seed_same_output(text):
    a = noisy_variants(text, random.Random(42), n=3, rate=0.2)
    b = noisy_variants(text, random.Random(42), n=3, rate=0.2)
    assert a == b and a


def test_different_seeds_differ_somewhere():
    outs = {
        tuple(tuple(noisy_variants(t, random.Random(seed), n=2, rate=0.3)) for t in SAMPLES)
        for seed in range(5)
    }
    assert len(outs) > 1


@pytest.mark.parametrize("rate", [0.0, 0.15, 0.5, 1.0])
@pytest.mark.parametrize("text", SAMPLES)
def test_variants_keep_length_change_something_and_sound_alike(text, rate):
    variants = noisy_variants(text, random.Random(3), n=4, rate=rate)
    assert variants
    assert len(set(variants)) == len(variants)
    for v in variants:
        assert len(v) == len(text)
        diffs = [i for i, (a, b) in enumerate(zip(text, v, strict=True)) if a != b]
        assert diffs, "at least one substitution per variant"
        for i in diffs:
            assert ord(text[i]) >= 128, "ASCII must never change"
            assert v[i] in CONFUSIONS[text[i]]
            assert sounds_alike(text[i], v[i])
        for i, ch in enumerate(text):
            if ord(ch) < 128:
                assert v[i] == ch


def test_protected_positions_are_kept():
    text = "明天订饭"
    for seed in range(20):
        for v in noisy_variants(text, random.Random(seed), n=2, rate=1.0, protected={0, 1}):
            assert v[:2] == "明天" and v != text


def test_nothing_substitutable_gives_empty_list():
    assert noisy_variants("hello SOS", random.Random(0), n=3, rate=0.5) == []
    assert noisy_variants("嗯", random.Random(0), n=3, rate=0.5) == []
    assert noisy_variants("订饭", random.Random(0), n=0, rate=0.5) == []


def test_bad_arguments():
    with pytest.raises(ValueError):
        noisy_variants("订饭", random.Random(0), n=-1)
    with pytest.raises(ValueError):
        noisy_variants("订饭", random.Random(0), rate=1.5)


def test_every_training_example_noises_soundly():
    examples = noisy_nlu.read_examples(noisy_nlu.yaml_files(TRAIN, GENERATED))
    assert examples
    for ex in examples:
        rng = noisy_nlu.example_rng(TRAIN_SEED, ex.intent, ex.text)
        for v in noisy_variants(ex.text, rng, n=2, rate=0.15):
            assert len(v) == len(ex.text)
            for a, b in zip(ex.text, v, strict=True):
                if a != b:
                    assert ord(a) >= 128 and sounds_alike(a, b), (ex.text, v)


# --------------------------------------------------------------------------- the tool

SAMPLE_NLU = """\
version: "3.1"
nlu:
- intent: book_meal
  examples: |
    - 帮我订一份明天的午饭
    - 明儿个晌午订两份饭
    - [明天](date)订饭送到家
- intent: request_help
  examples: |
    - 救命 我摔倒了
    - 胸口疼喘不上气
- intent: affirm
  examples: |
    - 对
    - 对咧对咧 就这样订吧
- lookup: meal
  examples: |
    - 晌午饭
    - 午饭
- regex: portions
  examples: |
    - [一两二三]+份
- synonym: 午饭
  examples: |
    - 中午饭
"""

SECOND_FILE = """\
version: "3.1"
nlu:
- intent: call_family
  examples:
  - text: 给我闺女打电话
  - text: 叫我儿子过来一趟
"""


@pytest.fixture()
def nlu_dir(tmp_path: Path) -> Path:
    d = tmp_path / "train"
    d.mkdir()
    (d / "a.yml").write_text(SAMPLE_NLU, encoding="utf-8")
    (d / "b.yaml").write_text(SECOND_FILE, encoding="utf-8")
    (d / "notes.txt").write_text("not yaml", encoding="utf-8")
    return d


def _load(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ex in noisy_nlu.read_examples([path]):
        out.setdefault(ex.intent, []).append(ex.text)
    return out


def _run(inp: Path, out: Path, seed: int = 7, copies: int = 1) -> str:
    rc = noisy_nlu.main(
        ["--in", str(inp), "--out", str(out), "--copies", str(copies), "--seed", str(seed)]
    )
    assert rc == 0
    return out.read_text(encoding="utf-8")


def test_tool_is_deterministic_and_skips_its_own_output(nlu_dir: Path):
    out = nlu_dir / "generated_noisy.yml"
    first = _run(nlu_dir, out)
    second = _run(nlu_dir, out)  # out now exists inside --in: must be skipped
    assert first == second
    assert first.startswith(noisy_nlu.GENERATED_MARKER)
    other = _run(nlu_dir, nlu_dir.parent / "other.yml", seed=8)
    assert other.split("nlu:", 1)[1] != first.split("nlu:", 1)[1]


def test_tool_output_is_rasa_yaml_with_every_intent(nlu_dir: Path):
    out = nlu_dir.parent / "noisy.yml"
    data = yaml.safe_load(_run(nlu_dir, out))
    assert data["version"] == "3.1"
    assert all(set(entry) == {"intent", "examples"} for entry in data["nlu"])
    noisy = _load(out)
    assert set(noisy) == {"book_meal", "request_help", "affirm", "call_family"}


def test_tool_skips_lookup_regex_synonym_entries(nlu_dir: Path):
    out = nlu_dir.parent / "noisy.yml"
    text = _run(nlu_dir, out, copies=3).split("\nnlu:\n", 1)[1]  # body, not the header
    for token in ("lookup", "regex", "synonym", "[一两二三]+份", "中午饭"):
        assert token not in text
    originals = {ex.text for ex in noisy_nlu.read_examples(noisy_nlu.yaml_files(nlu_dir))}
    noisy = [t for texts in _load(out).values() for t in texts]
    assert not originals & set(noisy)
    assert len(noisy) == len(set(noisy))


def test_tool_noises_each_example_soundly(nlu_dir: Path):
    out = nlu_dir.parent / "noisy.yml"
    _run(nlu_dir, out, copies=2)
    originals = noisy_nlu.read_examples(noisy_nlu.yaml_files(nlu_dir))
    by_len: dict[tuple[str, int], list[str]] = {}
    for ex in originals:
        by_len.setdefault((ex.intent, len(ex.text)), []).append(ex.text)
    for intent, texts in _load(out).items():
        for v in texts:
            candidates = by_len[(intent, len(v))]
            assert any(
                all(a == b or sounds_alike(a, b) for a, b in zip(src, v, strict=True))
                for src in candidates
            ), v
    # "对" is shorter than --min-chars (3): left clean; only the long affirm is noised
    assert all(len(t) >= 3 for t in _load(out)["affirm"])


def test_tool_keeps_entity_annotations(nlu_dir: Path):
    out = nlu_dir.parent / "noisy.yml"
    _run(nlu_dir, out, copies=3)
    annotated = [t for t in _load(out)["book_meal"] if "(date)" in t]
    assert annotated and all(t.startswith("[明天](date)") for t in annotated)


def test_tool_accepts_a_single_file(nlu_dir: Path):
    out = nlu_dir.parent / "single.yml"
    _run(nlu_dir / "b.yaml", out, seed=11)
    assert set(_load(out)) == {"call_family"}


# --------------------------------------------------------------------------- committed outputs


def _regenerated(inp: Path, out: Path, seed: int) -> dict[str, list[str]]:
    files = noisy_nlu.yaml_files(inp, out)
    return {
        k: v
        for k, v in noisy_nlu.make_noisy(
            noisy_nlu.read_examples(files), copies=1, seed=seed, rate=0.15
        ).items()
        if v
    }


def test_committed_train_noisy_file_is_up_to_date():
    assert _load(GENERATED) == _regenerated(TRAIN, GENERATED, TRAIN_SEED), (
        "regenerate: .venv-rasa/bin/python tools/noisy_nlu.py --in nlu_data/train "
        "--out nlu_data/train/generated_noisy.yml --copies 1 --seed 7"
    )


def test_committed_heldout_noisy_file_is_up_to_date():
    assert _load(HELDOUT_NOISY) == _regenerated(HELDOUT, HELDOUT_NOISY, HELDOUT_SEED), (
        "regenerate: .venv-rasa/bin/python tools/noisy_nlu.py --in nlu_data/heldout/test.yml "
        "--out nlu_data/heldout/test_noisy.yml --copies 1 --seed 11"
    )
