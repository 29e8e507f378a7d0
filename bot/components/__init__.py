"""Custom Rasa NLU components for Mandarin (loaded by Rasa from bot/, its working directory).

They share the emergency phrases with the action server and the gateway through
`zhtext`, which lives at the repository root: make it importable here too, so
that `rasa train` / `rasa test nlu` run in bot/ work without extra set-up.
"""
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
