# Shared helpers for scripts/*: where the Python >= 3.14.2 toolbox lives and how to run in it.
# Sourced, not executed.  Sets REPO, VENV, VENV_OLDEST and the functions `in_env`, `in_venv`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The newest Home Assistant (requirements_dev.txt): development, ruff, mypy, the whole suite.
VENV="$REPO/.venv"
# The oldest supported Home Assistant (requirements_oldest.txt, Python 3.13): the suite
# without tests/e2e.
VENV_OLDEST="$REPO/.venv-oldest"
# The Debian "forky" toolbox root (only used when no native python3.14 >= 3.14.2 exists).
# Kept outside the repository on purpose: bwrap binds /dev and /proc into it, and a recursive
# delete of the work tree must never reach those.
DEV_ROOT="${ATM90E32_DEV_ROOT:-$HOME/.cache/atm90e32-dev/forky}"

native_python() {
  # Print a native python3.14 >= 3.14.2 if one is on PATH.
  local py
  py="$(command -v python3.14 || true)"
  if [ -n "$py" ] && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 14, 2))' 2>/dev/null; then
    echo "$py"
  fi
}

native_python313() {
  # Print a native python3.13 >= 3.13.2 (what Home Assistant 2025.8 requires) if one is on PATH.
  local py
  py="$(command -v python3.13 || true)"
  if [ -n "$py" ] && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 13, 2))' 2>/dev/null; then
    echo "$py"
  fi
}

uses_root() {
  # True when a venv (default .venv) was built inside the toolbox root (recorded by scripts/setup).
  [ -f "${1:-$VENV}/.atm90e32-root" ]
}

in_env() {
  # Run a command in .venv (the newest Home Assistant).
  in_venv "$VENV" "$@"
}

in_venv() {
  # Run a command with the venv $1 first on PATH, inside the toolbox root when it was built there.
  local venv="$1"
  shift
  if uses_root "$venv"; then
    local root
    root="$(cat "$venv/.atm90e32-root")"
    local args=(--bind "$root" / --dev /dev --proc /proc --tmpfs /tmp
      --ro-bind /etc/resolv.conf /etc/resolv.conf
      --bind "$REPO" "$REPO")
    # A venv linked from elsewhere (a git worktree sharing the main clone's venvs) is bound too.
    local real
    real="$(realpath "$venv")"
    case "$real" in "$REPO"/*) ;; *) args+=(--bind "$real" "$real") ;; esac
    # Real SPI devices stay reachable from inside, so the integration works on a Pi too.
    local dev
    for dev in /dev/spidev*; do
      [ -e "$dev" ] && args+=(--dev-bind "$dev" "$dev")
    done
    # The shared folder beside the repository, when present (never required).
    [ -d "$REPO/../shared" ] && args+=(--ro-bind "$REPO/../shared" "$REPO/../shared")
    env -u PIP_FIND_LINKS PATH="$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      HOME=/root bwrap "${args[@]}" --chdir "$PWD" -- "$@"
  else
    PATH="$venv/bin:$PATH" "$@"
  fi
}

restarting() {
  # Run a command again each time it exits with code 100 (Home Assistant's RESTART_EXIT_CODE:
  # "Restart" in its UI, or homeassistant.restart), as a supervisor does; return any other code.
  local status
  while true; do
    status=0
    "$@" || status=$?
    [ "$status" -eq 100 ] || return "$status"
    echo "develop: Home Assistant asked for a restart; starting it again" >&2
  done
}
