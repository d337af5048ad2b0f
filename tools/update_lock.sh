#!/usr/bin/env bash
# Move the locked versions forward, deliberately: in a new virtual environment, install the newest
# versions that pyproject.toml allows (ASR_LOCK=none bash tools/install.sh), run the test suite, and
# only when it passes rewrite requirements.lock with what was installed. Review the diff and commit it.
# Usage: bash tools/update_lock.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
python -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
ASR_LOCK=none bash tools/install.sh
python -m pytest -q "$@"
{
  echo "# The exact versions the test suite passed with: tools/install.sh installs these (pip constraints)."
  echo "# Regenerate with: bash tools/update_lock.sh   ($(python --version), $(uname -m), $(date -u +%Y-%m-%d))"
  python -m pip freeze --all --exclude-editable --exclude pip
} > requirements.lock.new
mv requirements.lock.new requirements.lock
echo "requirements.lock rewritten from $venv; review with: git diff requirements.lock"
