"""Where things live: the checkout, and the one `var/` directory every part writes its state to.

`var/` is `YINLING_VAR_DIR` when set (an installed package has no checkout to write into), else
`var/` in the checkout.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
MODELS = BOT / "models"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def var_dir(*parts: str, create: bool = True) -> Path:
    """The var directory (or a path under it), created unless `create` is False."""
    base = Path(os.environ.get("YINLING_VAR_DIR") or ROOT / "var").expanduser()
    path = base.joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
