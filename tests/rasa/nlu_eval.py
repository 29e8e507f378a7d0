"""Intent accuracy of the trained model on our held-out files, with `rasa test nlu`.

`python -m tests.rasa.nlu_eval [FILE ...]` prints accuracy, macro F1 and the
per-intent recall for each file (default: the held-out file and its noisy twin).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
MODEL = BOT / "models" / "yinling.tar.gz"
HELDOUT = ROOT / "nlu_data" / "heldout" / "test.yml"
HELDOUT_NOISY = ROOT / "nlu_data" / "heldout" / "test_noisy.yml"


@dataclass(frozen=True)
class NluScore:
    file: str
    accuracy: float
    macro_f1: float
    recall: dict[str, float]
    support: dict[str, int]
    errors: list[dict]


def evaluate(nlu_file: Path, out_name: str | None = None) -> NluScore:
    out = BOT / "results" / (out_name or nlu_file.stem)
    subprocess.run(
        # through rasa_ext.serve: the same patched Rasa that serves the elders
        [sys.executable, "-m", "rasa_ext.serve", "test", "nlu", "--nlu", str(nlu_file),
         "--model", str(MODEL), "--out", str(out), "--no-plot"],
        cwd=BOT, check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "recall" in v and k not in
               ("macro avg", "weighted avg", "micro avg")}
    return NluScore(
        file=str(nlu_file.relative_to(ROOT)) if nlu_file.is_relative_to(ROOT) else str(nlu_file),
        accuracy=float(report["accuracy"]) if "accuracy" in report else float(report["micro avg"]["recall"]),
        macro_f1=float(report["macro avg"]["f1-score"]),
        recall={k: float(v["recall"]) for k, v in intents.items()},
        support={k: int(v["support"]) for k, v in intents.items()},
        errors=errors,
    )


def describe(score: NluScore) -> str:
    lines = [f"{score.file}: accuracy {score.accuracy:.3f}, macro F1 {score.macro_f1:.3f}, "
             f"{sum(score.support.values())} examples"]
    for intent in sorted(score.recall):
        lines.append(f"  {intent:<20} recall {score.recall[intent]:.3f}  (n={score.support[intent]})")
    for e in score.errors[:15]:
        lines.append(f"  miss: {e['text']!r} {e['intent']} -> {e['intent_prediction']['name']}")
    return "\n".join(lines)


if __name__ == "__main__":
    files = [Path(a).resolve() for a in sys.argv[1:]] or [HELDOUT, HELDOUT_NOISY]
    for f in files:
        print(describe(evaluate(f)))
