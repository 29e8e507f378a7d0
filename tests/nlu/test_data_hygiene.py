"""Hygiene checks for the NLU data in nlu_data/.

    .venv-rasa/bin/python -m pytest tests/nlu/test_data_hygiene.py

- intent names are exactly the 20 of the design plus ask_my_bookings (bot/domain.yml),
  in training and held-out data;
- at least 40 hand-written training examples per intent (the files hold 70+);
- no example text under two intents; held-out texts never appear in training
  (compared after dropping spaces and punctuation, so "好的。" == "好的");
- no inline entity annotations in hand-written files (entities come from lookups/regexes);
- no ID-card-like or phone-like digit runs (PIPL: none in training data);
- lookups.yml: the entity names and the regexes/lookups extract what the actions expect;
- Rasa itself loads every file (skipped where rasa is not importable).
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NLU = REPO / "nlu_data"
TRAIN = NLU / "train"
HELDOUT = NLU / "heldout"
GENERATED = TRAIN / "generated_noisy.yml"
LOOKUPS = TRAIN / "lookups.yml"

INTENTS = set(
    "greet goodbye affirm deny thank book_meal cancel_meal ask_menu ask_subsidy "
    "ask_subsidy_status request_help call_family find_service ask_activity "
    "request_home_visit handoff_human repeat report_health chitchat out_of_scope "
    # beyond the design's twenty: the elder's own meals, visits and help requests
    "ask_my_bookings".split()
)
ENTITIES = {
    "date", "meal", "portions", "facility", "programme", "relation",
    "service_type", "measure", "value",
}
MIN_HAND_WRITTEN = 40
MIN_HELDOUT = 25
MIN_HELDOUT_HELP = 40

_PUNCT = re.compile(r"[\s，。？！、,.?!：:；;~～…\"'“”‘’]+")


def norm(text: str) -> str:
    return _PUNCT.sub("", text).lower()


def _entries(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return (yaml.safe_load(fh) or {}).get("nlu") or []


def _examples(block) -> list[str]:
    if isinstance(block, list):
        return [i["text"] if isinstance(i, dict) else i for i in block]
    out = []
    for line in (block or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            out.append(line[2:].strip())
        elif line:
            out.append(line)
    return out


def intent_examples(paths) -> dict[str, list[str]]:
    out: dict[str, list[str]] = collections.defaultdict(list)
    for p in paths:
        for entry in _entries(p):
            if "intent" in entry:
                out[entry["intent"]].extend(_examples(entry.get("examples")))
    return dict(out)


HAND_FILES = sorted(
    p for p in TRAIN.glob("*.yml") if p not in (GENERATED, LOOKUPS)
)
HAND = intent_examples(HAND_FILES)
NOISY = intent_examples([GENERATED]) if GENERATED.exists() else {}
HELD = intent_examples([HELDOUT / "test.yml"])
HELD_NOISY = intent_examples([HELDOUT / "test_noisy.yml"])


def _all(d: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(intent, t) for intent, texts in d.items() for t in texts]


def test_one_hand_written_file_per_intent():
    assert {p.stem for p in HAND_FILES} == INTENTS
    for p in HAND_FILES:
        assert set(intent_examples([p])) == {p.stem}


def test_intent_names_are_exactly_the_design_ones():
    assert set(HAND) == INTENTS
    assert set(HELD) == INTENTS
    assert set(NOISY) <= INTENTS and set(HELD_NOISY) <= INTENTS


def test_enough_hand_written_examples_per_intent():
    thin = {k: len(v) for k, v in HAND.items() if len(v) < MIN_HAND_WRITTEN}
    assert not thin


def test_enough_heldout_examples_per_intent():
    thin = {
        k: len(v)
        for k, v in HELD.items()
        if len(v) < (MIN_HELDOUT_HELP if k == "request_help" else MIN_HELDOUT)
    }
    assert not thin


def test_no_text_under_two_intents_in_training():
    owner: dict[str, str] = {}
    clashes = []
    for intent, text in _all(HAND) + _all(NOISY):
        key = norm(text)
        if owner.setdefault(key, intent) != intent:
            clashes.append((text, owner[key], intent))
    assert not clashes


def test_no_text_under_two_intents_in_heldout():
    owner: dict[str, str] = {}
    clashes = []
    for intent, text in _all(HELD) + _all(HELD_NOISY):
        key = norm(text)
        if owner.setdefault(key, intent) != intent:
            clashes.append((text, owner[key], intent))
    assert not clashes


def test_no_duplicates_within_hand_written_files():
    dups = [k for k, c in collections.Counter(norm(t) for _, t in _all(HAND)).items() if c > 1]
    assert not dups


def test_heldout_never_seen_in_training():
    train = {norm(t) for _, t in _all(HAND) + _all(NOISY)}
    leaked = [t for _, t in _all(HELD) + _all(HELD_NOISY) if norm(t) in train]
    assert not leaked


def test_no_empty_or_multiline_examples():
    for _, t in _all(HAND) + _all(NOISY) + _all(HELD) + _all(HELD_NOISY):
        assert t.strip() and "\n" not in t


def test_no_inline_entity_annotations():
    annotated = re.compile(r"\[[^\]]+\](\([^)]*\)|\{[^}]*\})")
    bad = [t for _, t in _all(HAND) + _all(HELD) if annotated.search(t)]
    assert not bad


def test_no_id_or_phone_numbers():
    digits = re.compile(r"\d{7,}|[0-9Xx]{15,18}")
    bad = [t for _, t in _all(HAND) + _all(HELD) if digits.search(t)]
    assert not bad


# --------------------------------------------------------------------------- entities


def _lookup_file():
    regexes, lookups, synonyms = {}, {}, {}
    for entry in _entries(LOOKUPS):
        if "regex" in entry:
            regexes[entry["regex"]] = _examples(entry["examples"])
        elif "lookup" in entry:
            lookups[entry["lookup"]] = _examples(entry["examples"])
        elif "synonym" in entry:
            synonyms[entry["synonym"]] = _examples(entry["examples"])
        else:
            pytest.fail(f"unexpected entry in lookups.yml: {entry}")
    return regexes, lookups, synonyms


REGEXES, LOOKUP_TABLES, SYNONYMS = _lookup_file()


def _patterns() -> dict[str, list[str]]:
    """Entity -> patterns, built the way Rasa 3.6 builds them (use_word_boundaries: False)."""
    out = {name: list(pats) for name, pats in REGEXES.items()}
    for name, elements in LOOKUP_TABLES.items():
        out.setdefault(name, []).append("(" + "|".join(re.escape(e) for e in elements) + ")")
    return out


PATTERNS = _patterns()


def extract(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = collections.defaultdict(list)
    for name, pats in PATTERNS.items():
        for pat in pats:
            found[name].extend(m.group(0) for m in re.finditer(pat, text))
    return found


def canonical(value: str) -> str:
    for canon, variants in SYNONYMS.items():
        if value in variants:
            return canon
    return value


def test_entity_names_are_the_expected_ones():
    assert set(PATTERNS) == ENTITIES
    assert set(REGEXES) == {"date", "portions", "value"}


def test_each_regex_entity_is_one_pattern():
    # RegexEntityExtractor runs every pattern line separately: more lines = overlapping hits
    for name, pats in REGEXES.items():
        assert len(pats) == 1, name
        re.compile(pats[0])


def test_lookup_elements_longest_first_and_unique():
    for name, elements in LOOKUP_TABLES.items():
        assert len(elements) == len(set(elements)), name
        for i, longer in enumerate(elements):
            for shorter in elements[i + 1:]:
                assert not (longer in shorter and longer != shorter), (
                    f"{name}: '{shorter}' contains '{longer}' but comes after it"
                )


def test_synonym_variants_map_to_one_canonical_value():
    seen: dict[str, str] = {}
    for canon, variants in SYNONYMS.items():
        for v in variants:
            assert seen.setdefault(v, canon) == canon, v


@pytest.mark.parametrize(
    "text, entity, expected",
    [
        ("明儿个晌午饭给我订两份", "date", ["明儿个"]),
        ("下礼拜一订三份午饭", "date", ["下礼拜一"]),
        ("大后天中午", "date", ["大后天"]),
        ("二十四号的午饭", "date", ["二十四号"]),
        ("12月5号的午饭", "date", ["12月5号"]),
        ("十二月三号中午", "date", ["十二月三号"]),
        ("周三的饭", "date", ["周三"]),
        ("星期天去", "date", ["星期天"]),
        ("下个星期五", "date", ["下个星期五"]),
        ("订两份饭", "portions", ["两份"]),
        ("订仨人的", "portions", ["仨"]),
        ("来3份", "portions", ["3份"]),
        ("血压一百四十五到九十", "value", ["一百四十五", "九十"]),
        ("血糖七点八", "value", ["七点八"]),
        ("血压145/90", "value", ["145/90"]),
        ("体温36.5", "value", ["36.5"]),
        ("我一个人在家", "value", []),
        ("明儿个晌午饭给我订两份", "meal", ["晌午饭"]),
        ("黑夜饭订一份", "meal", ["黑夜饭"]),
        ("段家庄村幸福小院在哪", "facility", ["段家庄村幸福小院"]),
        ("西流北村日间照料中心几点开", "facility", ["西流北村日间照料中心"]),
        ("最近的卫生室", "facility", ["卫生室"]),
        ("我的高龄津贴发了没", "programme", ["高龄津贴"]),
        ("经济困难失能老年人补贴咋申请", "programme", ["经济困难失能老年人补贴"]),
        ("叫我大闺女来", "relation", ["大闺女"]),
        ("给我老伴儿打电话", "relation", ["老伴儿"]),
        ("来个人给我剃头", "service_type", ["剃头"]),
        ("上门陪诊", "service_type", ["陪诊"]),
        ("高压一百五低压九十五", "measure", ["高压", "低压"]),
        ("心跳七十二", "measure", ["心跳"]),
    ],
)
def test_extraction(text, entity, expected):
    assert extract(text).get(entity, []) == expected


@pytest.mark.parametrize(
    "variant, canon",
    [("晌午饭", "午饭"), ("中午", "午饭"), ("黑夜饭", "晚饭"), ("闺女", "女儿"),
     ("姑娘", "女儿"), ("老伴儿", "老伴"), ("剃头", "理发"), ("推头", "理发"),
     ("洗澡", "助浴"), ("心跳", "心率"), ("高龄补贴", "高龄津贴")],
)
def test_synonyms(variant, canon):
    assert canonical(variant) == canon


# --------------------------------------------------------------------------- rasa


def test_rasa_loads_every_file():
    loading = pytest.importorskip("rasa.shared.nlu.training_data.loading")
    counts = collections.Counter()
    for path in [*sorted(TRAIN.glob("*.yml")), *sorted(HELDOUT.glob("*.yml"))]:
        data = loading.load_data(str(path))
        if path == LOOKUPS:
            assert not data.intent_examples
            assert {r["name"] for r in data.regex_features} == {"date", "portions", "value"}
            assert {t["name"] for t in data.lookup_tables} == ENTITIES - {"date", "portions", "value"}
            assert data.entity_synonyms
        else:
            assert data.intent_examples, path
            counts[path.name] += len(data.intent_examples)
            for ex in data.intent_examples:
                assert ex.get("intent") in INTENTS
    assert counts
