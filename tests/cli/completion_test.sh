#!/usr/bin/env bash
# The bash completion (packaging/schakel.bash-completion) completes from the
# program's own --help: top-level commands, a command's subcommands and its
# options. Usage: completion_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
SRC=$1 BIN=$2
# shellcheck source=/dev/null
source "$SRC/packaging/schakel.bash-completion"
fail() { echo "completion test: FAILED: $*" >&2; exit 1; }
complete_line() {  # words...; the last is the one being completed
  COMP_WORDS=("$BIN/schakel" "$@")
  COMP_CWORD=${#COMP_WORDS[@]}
  COMP_CWORD=$((COMP_CWORD - 1))
  COMPREPLY=()
  _schakel
  echo "${COMPREPLY[*]}"
}
[ "$(complete_line us)" = "user" ] || fail "'us' -> $(complete_line us)"
got=$(complete_line user "")
for w in add passwd list disable enable remove rotate-token set-role set-function; do
  grep -qw -- "$w" <<<"$got" || fail "'user ' lacks $w: $got"
done
got=$(complete_line link create --)
for w in --for --type --purpose --expires --category --allow-partial --dir; do
  grep -qw -- "$w" <<<"$got" || fail "'link create --' lacks $w: $got"
done
got=$(complete_line --dir /tmp consent req)
[ "$got" = "request requests" ] || fail "'consent req' -> $got"
echo "completion test: commands, subcommands and options complete from --help"
