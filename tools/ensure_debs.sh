#!/usr/bin/env bash
# Debian packages:  tools/ensure_debs.sh [test]
#   the voice needs espeak-ng (pyttsx3 speaks through it), sox, PortAudio (sounddevice);
#   `test` adds the peers the tests drive: sipp (sip-tester) and baresip for the phone, Chromium and a CJK
#   font for the pages, the PostgreSQL client.
# Installs them when we can (root with apt-get); otherwise says what to install and goes on, because
# text chat works without the voice's, and the tests say which peer they miss.
set -uo pipefail
pkgs=(espeak-ng sox libportaudio2)
[ "${1:-}" = test ] && pkgs+=(sip-tester baresip-core chromium fonts-noto-cjk postgresql-client)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo ">> installing ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null && exit 0
fi
echo ">> needed: sudo apt-get install ${need[*]}   (text chat works without them)" >&2
