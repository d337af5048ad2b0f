#!/usr/bin/env bash
# Install asr (editable, with its test extras) into the current Python environment, at the exact
# versions in requirements.lock. ASR_LOCK=none resolves the newest versions pyproject.toml allows
# instead (tools/update_lock.sh does that in a new environment and rewrites the lock).
# Flite, a speech synthesizer whose voices the digits recipe adds as training speakers, comes from
# the system's package manager: installed as root or with password-less sudo, otherwise named.
set -euo pipefail
cd "$(dirname "$0")/.."

install_flite() {
  command -v flite > /dev/null && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo > /dev/null && sudo -n true 2> /dev/null; then sudo=(sudo -n); else return 1; fi
  fi
  command -v apt-get > /dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -qq flite > /dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq > /dev/null 2>&1 && "${sudo[@]}" apt-get install -y -qq flite > /dev/null 2>&1; }
}

if ! install_flite; then
  echo "tools/install.sh: the flite program is missing and could not be installed (no root, sudo or apt-get)." >&2
  echo "  Needed by: 'asr prepare flite-digits' (stage 0 of recipes/digits/run.sh) and tests/test_flite.py (skipped)." >&2
  echo "  Install it with your system's package manager, e.g. 'sudo apt-get install flite'." >&2
fi

LOCK=${ASR_LOCK:-requirements.lock}
constraints=()
if [ "$LOCK" != none ]; then
  [ -f "$LOCK" ] || { echo "tools/install.sh: lock file $LOCK not found (ASR_LOCK=none resolves the newest versions)" >&2; exit 2; }
  constraints=(--constraint "$LOCK")
fi
python -m pip install --quiet "${constraints[@]}" torch torchaudio
python -m pip install --quiet "${constraints[@]}" -e ".[test]"
