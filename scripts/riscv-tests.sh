#!/usr/bin/env bash
# Run the riscv-tests ISA suites (rv32ui/um/ua/si/mi, -p and -v ELFs) through
# the webkvm CLI and report one line per test plus a final summary line.
#
# Usage: scripts/riscv-tests.sh [DIR] [FILTER...]
#   DIR      directory holding the prebuilt riscv-tests ELFs
#            (default: $RISCV_TESTS, else /work/rvtests/build)
#   FILTER   optional substrings; only tests whose name contains one of them
#            run (e.g. "rv32ui-p" "rv32mi")
#
# Environment:
#   RISCV_TESTS     default test directory
#   WEBKVM_CLI      path to the CLI entry point (default: <repo>/bin/webkvm.mjs)
#   NODE            node binary (default: node)
#   TEST_TIMEOUT    seconds passed to `webkvm run --timeout` (default: 20)
#   VERBOSE=1       print the CLI output of failing tests
#
# A test passes when `node bin/webkvm.mjs run <elf> --timeout N` exits 0
# (the guest wrote tohost=1 through HTIF).  Exit status of this script is 0
# only if every test passed; 2 on usage/setup errors.
#
# The test binaries are third-party inputs built outside this repository;
# nothing from riscv-tests lives in this script.

set -u

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)

dir=${1:-${RISCV_TESTS:-/work/rvtests/build}}
[ $# -gt 0 ] && shift
filters=("$@")

cli=${WEBKVM_CLI:-$repo_dir/bin/webkvm.mjs}
node_bin=${NODE:-node}
timeout_s=${TEST_TIMEOUT:-20}
# hard wall-clock guard in case the CLI itself hangs
guard_s=$((timeout_s * 3 + 10))

if [ ! -d "$dir" ]; then
  echo "riscv-tests: test directory not found: $dir" >&2
  echo "riscv-tests: pass a directory or set RISCV_TESTS" >&2
  exit 2
fi
if [ ! -f "$cli" ]; then
  echo "riscv-tests: webkvm CLI not found: $cli" >&2
  exit 2
fi
if ! command -v "$node_bin" >/dev/null 2>&1; then
  echo "riscv-tests: node not found ($node_bin)" >&2
  exit 2
fi

is_elf() {
  # first four bytes must be 7f 45 4c 46 ("\177ELF")
  [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "7f454c46" ]
}

matches_filter() {
  [ ${#filters[@]} -eq 0 ] && return 0
  local f
  for f in "${filters[@]}"; do
    case "$1" in *"$f"*) return 0 ;; esac
  done
  return 1
}

tests=()
while IFS= read -r -d '' f; do
  name=$(basename "$f")
  is_elf "$f" || continue
  matches_filter "$name" || continue
  tests+=("$f")
done < <(find "$dir" -maxdepth 1 -type f -print0 | sort -z)

if [ ${#tests[@]} -eq 0 ]; then
  echo "riscv-tests: no ELF test binaries found in $dir" >&2
  echo "0 passed, 0 failed"
  exit 2
fi

have_timeout=0
command -v timeout >/dev/null 2>&1 && have_timeout=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0
failed_names=()
for f in "${tests[@]}"; do
  name=$(basename "$f")
  start=$(date +%s%N 2>/dev/null || echo 0)
  if [ $have_timeout -eq 1 ]; then
    timeout "$guard_s" "$node_bin" "$cli" run "$f" --timeout "$timeout_s" >"$log" 2>&1 </dev/null
  else
    "$node_bin" "$cli" run "$f" --timeout "$timeout_s" >"$log" 2>&1 </dev/null
  fi
  rc=$?
  end=$(date +%s%N 2>/dev/null || echo 0)
  ms=$(( (end - start) / 1000000 ))
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS  %-32s exit 0  (%d ms)\n' "$name" "$ms"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    note=""
    [ $have_timeout -eq 1 ] && [ $rc -eq 124 ] && note=" [killed after ${guard_s}s]"
    printf 'FAIL  %-32s exit %d%s  (%d ms)\n' "$name" "$rc" "$note" "$ms"
    if [ "${VERBOSE:-0}" = "1" ]; then
      sed 's/^/      | /' "$log" | tail -n 20
    fi
  fi
done

if [ $failed -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
