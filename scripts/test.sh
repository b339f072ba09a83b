#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, lints (ruff) and type-checks (mypy),
# then runs the whole suite.
#   scripts/test.sh [pytest args...]
# What it installs: a virtualenv in .venv with codexprov and its test extras; the pinned real Codex
# CLIs from npm into .cache/codex/<version>; gnome-keyring and dbus from apt (when missing and we
# are root) so that the keyring tests talk to a real Secret Service; LiteLLM's proxy for the bridge
# tests into .cache/litellm/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CODEX_VERSIONS=(0.171.0 0.133.0)  # the first is the primary Codex (tests/conftest.py PRIMARY_CODEX)

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Lint and types first (config in pyproject.toml): they fail in a second, before the slow parts.
if ! .venv/bin/ruff check --quiet; then
  echo "error: ruff check failed (problems above); \`.venv/bin/ruff check --fix\` repairs the safe ones" >&2
  exit 1
fi
if ! .venv/bin/ruff format --check --quiet; then
  echo "error: files are not formatted (listed above); \`.venv/bin/ruff format\` formats them" >&2
  exit 1
fi
if ! .venv/bin/mypy; then
  echo "error: mypy found type errors in codexprov/ (above)" >&2
  exit 1
fi

for version in "${CODEX_VERSIONS[@]}"; do
  prefix=.cache/codex/$version
  if [ ! -x "$prefix/node_modules/.bin/codex" ]; then
    mkdir -p "$prefix"
    npm install --silent --no-audit --no-fund --prefix "$prefix" "@openai/codex@$version" >/dev/null
  fi
done

# LiteLLM for the bridge tests, through the same code path as `codexprov bridge install` (pinned
# range; nothing happens when a LiteLLM in that range is already there). A virtualenv of its own.
CODEXPROV_BRIDGE_DIR="$PWD/.cache/litellm" CODEXPROV_BRIDGE_VENV="$PWD/.cache/litellm/venv" \
  .venv/bin/codexprov bridge install 2>/dev/null

if ! command -v gnome-keyring-daemon >/dev/null || ! command -v dbus-run-session >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends gnome-keyring dbus dbus-daemon libsecret-tools >/dev/null
  else
    echo "note: gnome-keyring/dbus missing and cannot apt-get install; real-keyring tests will skip" >&2
  fi
fi

# zsh and fish: the completion tests run the scripts `codexprov completion SHELL` prints in the real shells.
if ! command -v zsh >/dev/null || ! command -v fish >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends zsh fish >/dev/null
  else
    echo "note: zsh/fish missing and cannot apt-get install; their completion tests will skip" >&2
  fi
fi

export PATH="$PWD/.venv/bin:$PATH"
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  exec dbus-run-session -- bash scripts/in-session.sh "$@"
fi
exec bash scripts/in-session.sh "$@"
