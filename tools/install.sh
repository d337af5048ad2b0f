#!/usr/bin/env bash
# Install asr and its test dependencies into the current Python environment.
# PyTorch comes first, at a known-good torch/torchaudio pair (override with TORCH_SPEC);
# pyproject.toml itself only declares ranges. Flite, a speech synthesizer whose voices
# the digits recipe adds as training speakers, comes from the system's package manager.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v flite > /dev/null; then
  if command -v apt-get > /dev/null; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq flite > /dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq flite > /dev/null; }
  else
    echo "tools/install.sh: install the flite speech synthesizer with your system's package manager" >&2
    exit 1
  fi
fi
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchaudio==2.11.0"}
python -m pip install --quiet $TORCH_SPEC
python -m pip install --quiet -e ".[test]"
