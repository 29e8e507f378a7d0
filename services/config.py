"""Where the services layer finds its database, outbox and salt (environment first, then defaults)."""

from __future__ import annotations

import os
from pathlib import Path

from common.paths import var_dir

# Dev-only salt so a fresh checkout works out of the box. Deployments MUST set YINLING_ID_SALT:
# with a public salt, ID-number hashes could be brute-forced from the small ID-number space.
DEV_ID_SALT = "yinling-dev-salt-not-for-production"


def database_url() -> str:
    url = os.environ.get("YINLING_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / 'yinling.db'}"


def outbox_path() -> Path:
    path = os.environ.get("YINLING_OUTBOX")
    if path:
        return Path(path)
    return var_dir() / "outbox.jsonl"


def id_salt() -> str:
    return os.environ.get("YINLING_ID_SALT") or DEV_ID_SALT
