#!/bin/sh
# Re-checks the wallet fixtures with eth-account (PyPI), versions pinned in requirements.txt:
# makes tests/py/.venv on first use, then runs cross_check.py, which writes
# tests/fixtures/wallets/crosscheck.json. Run from anywhere.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python" "$here/cross_check.py"
