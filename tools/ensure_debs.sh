#!/usr/bin/env bash
# Debian packages the voice needs: espeak-ng (pyttsx3 speaks through it), sox, PortAudio (sounddevice).
# Installs them when we can (root with apt-get); otherwise says what to install and goes on, because
# text chat works without them.
set -uo pipefail
need=()
for pkg in espeak-ng sox libportaudio2; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo ">> installing ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null && exit 0
fi
echo ">> voice needs: sudo apt-get install ${need[*]}   (text chat works without them)" >&2
