#!/usr/bin/env bash
# Runs inside `dbus-run-session`: starts an unlocked gnome-keyring (a real Secret Service on this
# private session bus), checks that python-keyring really uses it, then runs pytest. Never touches
# the user's own session or keyring: the bus is private, and the daemon gets a throwaway HOME.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
KEYRING_HOME=""
cleanup() {
  # The daemon exits by itself when dbus-run-session closes the bus; its files go with this folder.
  if [ -n "$KEYRING_HOME" ]; then rm -rf "$KEYRING_HOME"; fi
}
trap cleanup EXIT

start_secret_service() {
  KEYRING_HOME=$(mktemp -d "${TMPDIR:-/tmp}/codexprov-keyring.XXXXXX")
  chmod 700 "$KEYRING_HOME"
  mkdir -p "$KEYRING_HOME/.local/share" "$KEYRING_HOME/.cache"
  local env_out
  # --unlock reads the password from stdin and creates the "login" collection with it, unlocked;
  # it becomes the default collection, which is what keyring's SecretService backend writes to.
  # XDG_RUNTIME_DIR points into the same throwaway folder so the control socket never lands in a
  # real session's runtime dir.
  if ! env_out=$(printf 'test-password' | HOME="$KEYRING_HOME" XDG_DATA_HOME="$KEYRING_HOME/.local/share" \
      XDG_CACHE_HOME="$KEYRING_HOME/.cache" XDG_RUNTIME_DIR="$KEYRING_HOME" \
      gnome-keyring-daemon --daemonize --unlock --components=secrets 2>"$KEYRING_HOME/daemon.log"); then
    echo "note: gnome-keyring-daemon did not start; real-keyring tests will not run:" >&2
    sed 's/^/  /' "$KEYRING_HOME/daemon.log" >&2 || true
    return 1
  fi
  # Only the variables it prints (GNOME_KEYRING_CONTROL, maybe SSH_AUTH_SOCK); nothing else is eval'd.
  while IFS= read -r line; do
    case "$line" in
      GNOME_KEYRING_CONTROL=*) export "$line" ;;
    esac
  done <<<"$env_out"
  export CODEXPROV_TEST_KEYRING_HOME="$KEYRING_HOME"

  # Prove it: python-keyring must pick the SecretService backend and round-trip a value. The daemon
  # registers on the bus asynchronously, so give it a few tries.
  local probe='
import sys, keyring
backend = keyring.get_keyring()
name = type(backend).__module__ + "." + type(backend).__qualname__
if name != "keyring.backends.SecretService.Keyring":
    sys.exit("keyring chose " + name)
keyring.set_password("codexprov-probe", "probe", "probe-value")
ok = keyring.get_password("codexprov-probe", "probe") == "probe-value"
keyring.delete_password("codexprov-probe", "probe")
sys.exit(0 if ok else "round trip failed")
'
  local attempt why=""
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if why=$(env -u PYTHON_KEYRING_BACKEND "$PYTHON" -c "$probe" 2>&1); then
      export CODEXPROV_TEST_SECRET_SERVICE=1
      return 0
    fi
    sleep 0.3
  done
  echo "note: the Secret Service is not usable from python-keyring; real-keyring tests will not run: $why" >&2
  return 1
}

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v gnome-keyring-daemon >/dev/null; then
  start_secret_service || true
fi

set +e
if [ "${1:-}" = "--run" ]; then
  # Any other command with the same private keyring, e.g. the token benchmark:
  #   dbus-run-session -- bash scripts/in-session.sh --run python bench/bench_token.py
  shift
  "$@"
  exit $?
fi
"$PYTHON" -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
