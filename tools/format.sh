#!/usr/bin/env bash
# Formats every C++ file git knows of with clang-format and the project's
# .clang-format, or, with --check, lists the files that differ from it and
# exits 1 (./dev test runs the check). Debian's clang-format (14).
set -euo pipefail
cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-clang-format}
mode=${1:-fix}
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cc' '*.hpp')
if [ "$mode" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    if ! "$CF" --style=file "$f" | cmp -s - "$f"; then bad+=("$f"); fi
  done
  if [ ${#bad[@]} -ne 0 ]; then
    printf 'not formatted (run ./dev format): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files as .clang-format says"
else
  "$CF" --style=file -i "${files[@]}"
fi
