# shellcheck shell=bash
# Helpers shared by the demo scripts (sourced): a step banner, and running a command with its
# command line echoed on standard error the way an operator would type it.
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

# Debian's python3 (which the scripts need), not a user-level shim found first on PATH: a
# version manager's shim (pyenv) costs a second or more per call, and the tests built on these
# helpers make hundreds. A directory with a link to it goes first on PATH (not a shell function:
# `python3 ... &` must leave the python process itself in $!, for cleanup to stop it).
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
  _tiersync_py="${TMPDIR:-/tmp}/tiersync-python3-$(id -u)"
  mkdir -p "$_tiersync_py" && ln -sfn /usr/bin/python3 "$_tiersync_py/python3" &&
    PATH="$_tiersync_py:$PATH"
fi
