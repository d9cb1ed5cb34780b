# shellcheck shell=bash
# Helpers shared by the demo scripts (sourced): a step banner, and running a command with its
# command line echoed on standard error the way an operator would type it.
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
