#!/usr/bin/env bash
# Runs inside `dbus-run-session`: starts an unlocked gnome-keyring (a real Secret Service on this
# private session bus), then pytest. Never touches the user's own session or keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v gnome-keyring-daemon >/dev/null; then
  # Its own HOME so the daemon's keyring files never land in the real home.
  KEYRING_HOME=$(mktemp -d)
  export CODEXPROV_TEST_KEYRING_HOME="$KEYRING_HOME"
  eval "$(printf 'test-password' | HOME="$KEYRING_HOME" XDG_DATA_HOME="$KEYRING_HOME/.local/share" \
    gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
  export GNOME_KEYRING_CONTROL
  export CODEXPROV_TEST_SECRET_SERVICE=1
fi
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
