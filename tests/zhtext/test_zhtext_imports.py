"""zhtext must stay cheap to import and depend only on stdlib, cn2an, pypinyin and (in lunar.py) lunar_python."""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[2] / "zhtext"
ALLOWED = {"cn2an", "pypinyin", "zhtext"}
# The calendar library belongs to the one module that says lunar dates.
ALLOWED_IN = {"lunar.py": {"lunar_python"}}


def _imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(PKG.glob("*.py")), ids=lambda p: p.name)
def test_only_allowed_imports(path):
    allowed = ALLOWED | ALLOWED_IN.get(path.name, set())
    bad = {m for m in _imports(path) if m not in allowed and m not in sys.stdlib_module_names}
    assert not bad, f"{path.name} imports {bad}"


def test_import_is_cheap_and_lazy():
    code = (
        "import sys, json; before = set(sys.modules);"
        "import zhtext, zhtext.normalize, zhtext.numbers, zhtext.dates, zhtext.meals,"
        " zhtext.health, zhtext.kinds, zhtext.emergency, zhtext.spoken, zhtext.when, zhtext.lunar;"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    root = PKG.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    foreign = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "zhtext"]
    assert foreign == []
    assert not {"jieba", "cn2an", "pypinyin", "lunar_python"} & {m.split(".")[0] for m in loaded}


def test_lazy_attributes():
    import zhtext

    assert zhtext.parse_count("两份") == 2
    assert callable(zhtext.detect_emergency)
    with pytest.raises(AttributeError):
        zhtext.no_such_name  # noqa: B018
    zhtext.warm_up()


def test_time_questions_need_no_calendar_library():
    # The detector runs wherever zhtext does; lunar_python loads only when an answer is said.
    code = (
        "import sys; from zhtext.when import parse_time_question;"
        "assert parse_time_question('今儿个星期几').asks == 'weekday';"
        "assert 'lunar_python' not in sys.modules;"
        "from datetime import datetime; from zhtext.when import time_answer, CHINA_TZ;"
        "print(time_answer(parse_time_question('农历今天初几'), datetime(2025, 1, 29, 9, tzinfo=CHINA_TZ)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PKG.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "今天是农历正月初一。今天是春节。"
