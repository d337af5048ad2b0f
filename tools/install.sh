#!/usr/bin/env bash
# Install asr and its test dependencies into the current Python environment.
# PyTorch comes first, at a known-good torch/torchaudio pair (override with TORCH_SPEC);
# pyproject.toml itself only declares ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchaudio==2.11.0"}
python -m pip install --quiet $TORCH_SPEC
python -m pip install --quiet -e ".[test]"
