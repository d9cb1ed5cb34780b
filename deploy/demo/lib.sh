# shellcheck shell=bash
# Helpers shared by the demo scripts (sourced): a step banner, and running a command with its
# command line echoed on standard error the way an operator would type it.
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

# Debian's python3 (which the scripts need), not a user-level shim found first on PATH: a
# version manager's shim (pyenv) costs a second or more per call, and the tests built on these
# helpers make hundreds.
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
