#!/usr/bin/env bash
# Make sure a Python environment matches its lock file:  tools/ensure_env.sh app|rasa|satellite
#
# Environments are built once per lock-file hash in a cache outside the repo
# (YINLING_ENV_CACHE, default ~/.cache/yinling-envs) and linked into the
# checkout as .venv / .venv-rasa / .venv-satellite, so fresh clones (CI) reuse them.
#   app        the gateway, actions' code, the tests (Python 3.11)
#   rasa       Rasa 3.6.21 (Python 3.10)
#   satellite  the real wyoming-satellite 1.0.0 for tests/voice/test_real_satellite.py (Python 3.11;
#              it pins wyoming 1.4.1, the app has 1.10.2)
set -euo pipefail
kind=${1:?usage: ensure_env.sh app|rasa|satellite}
cd "$(dirname "$0")/.."

case "$kind" in
  app)       target=.venv;           lock=requirements/app.lock;       want=3.11 ;;
  rasa)      target=.venv-rasa;      lock=requirements/rasa.lock;      want=3.10 ;;
  satellite) target=.venv-satellite; lock=requirements/satellite.lock; want=3.11 ;;
  *) echo "unknown environment: $kind" >&2; exit 2 ;;
esac
# The hash covers the lock file, this environment's line above and how environments are built (all
# below the "how" marker), so adding an environment to the table rebuilds none of the others.
hash=$( { cat "$lock"; echo "$kind $target $want"; sed -n '/^# how:/,$p' tools/ensure_env.sh; } \
        | sha256sum | cut -c1-16)

# how: everything from here on is part of every environment's hash

if [ -f "$target/.lock-hash" ] && [ "$(cat "$target/.lock-hash")" = "$hash" ]; then
  exit 0
fi

find_python() {
  local v=$1 p
  for p in "$(command -v "python$v" 2>/dev/null || true)" \
           "$(pyenv root 2>/dev/null)/versions/$(pyenv versions --bare 2>/dev/null | grep -E "^$v(\.|$)" | tail -n1)/bin/python$v" \
           "$(uv python find "$v" 2>/dev/null || true)"; do
    if [ -n "$p" ] && [ -x "$p" ] && "$p" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

cache_root=${YINLING_ENV_CACHE:-$HOME/.cache/yinling-envs}
cache="$cache_root/$kind-$hash"
if [ ! -f "$cache/.lock-hash" ]; then
  py=$(find_python "$want") || {
    echo "Python $want is needed for the $kind environment. Install it (pyenv install $want, apt-get install python$want, or uv python install $want) and run make again." >&2
    exit 1
  }
  echo ">> building the $kind environment with $py in $cache (once per lock file)"
  rm -rf "$cache"; mkdir -p "$cache_root"
  "$py" -m venv "$cache"
  "$cache/bin/pip" install -q --upgrade pip
  "$cache/bin/pip" install -q -r "$lock"
  echo "$hash" > "$cache/.lock-hash"
fi
rm -rf "$target"
ln -s "$cache" "$target"
echo ">> $target -> $cache"
