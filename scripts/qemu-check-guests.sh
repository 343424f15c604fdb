#!/usr/bin/env bash
# qemu-check-guests.sh - cross-check webkvm's built-in guests (src/guests/*.S)
# on QEMU's rv32 `virt` machine, the platform webkvm copies.  Dev tool only:
# CI does not run it (it needs a RISC-V cross assembler and QEMU).
#
#   apt-get install -y binutils-riscv64-unknown-elf qemu-system-misc
#   scripts/qemu-check-guests.sh [options] [guest...]
#
# Each guest is assembled with GNU as (rv32ima_zicsr_zifencei, no relaxation,
# so `la` stays pc-relative; -I src/guests, where its `.include "lib/NAME.S"`
# files are) and linked at --base (default 0x80400000, where
# OpenSBI's fw_dynamic expects the kernel; webkvm links at 0x80000000, and
# the guests do not care).  It is then booted with
#   qemu-system-riscv32 -machine virt -nographic -smp N -bios FW -kernel x.elf
# under a timeout, hello and hello-irq get typed input on stdin, and the
# console output is compared with what the guest must print.
#
# Firmware (--bios):
#   opensbi  QEMU's own "-bios default" (rv32 OpenSBI).  Debian 12 ships only
#            the rv64 build, so this needs a QEMU that has it.
#   mini     scripts/qemu-mini-sbi.S: a small M-mode SBI (BASE, HSM, SRST,
#            DBCN, legacy) with OpenSBI's delegation; SRST shutdown maps the
#            reason to QEMU's exit status (0 none, 1 failure), so the guest's
#            verdict is checked too.
#   auto     opensbi if QEMU can load it, else mini (the default).
#
# Options:
#   --smp N          harts (default 4)
#   --base ADDR      link address of the guests (default 0x80400000)
#   --bios KIND      auto | opensbi | mini
#   --boot-hart N    mini only: which hart boots the kernel (default 0)
#   --timeout S      per guest (default 30)
#   --keep DIR       keep the build and logs in DIR
#   -v               print every guest's console output
# Guests: hello hello-irq compute compute-sv32 smp paging dirty paging-dirty
# (default: all).
#
# Exit status: 0 when every guest passed, 1 otherwise, 2 for a usage or
# tool problem.

set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
guests_dir="$root/src/guests"

smp=4
base=0x80400000
bios=auto
boot_hart=0
tmo=30
keep=""
verbose=0
selected=()

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --smp) smp="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --bios) bios="$2"; shift 2 ;;
    --boot-hart) boot_hart="$2"; shift 2 ;;
    --timeout) tmo="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -v) verbose=1; shift ;;
    -h|--help) usage ;;
    -*) echo "qemu-check-guests: unknown option $1" >&2; usage ;;
    *) selected+=("$1"); shift ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || selected=(hello hello-irq compute compute-sv32 smp paging dirty paging-dirty)

# --- tools -------------------------------------------------------------------
pick() { for t in "$@"; do command -v "$t" >/dev/null 2>&1 && { echo "$t"; return 0; }; done; return 1; }
AS_BIN="$(pick riscv64-unknown-elf-as riscv64-linux-gnu-as)" || {
  echo "qemu-check-guests: no RISC-V assembler; apt-get install -y binutils-riscv64-unknown-elf" >&2; exit 2; }
LD_BIN="${AS_BIN%-as}-ld"
QEMU="$(pick qemu-system-riscv32)" || {
  echo "qemu-check-guests: no qemu-system-riscv32; apt-get install -y qemu-system-misc" >&2; exit 2; }
AS=("$AS_BIN" -march=rv32ima_zicsr_zifencei -mabi=ilp32 -mno-relax -I "$guests_dir")
# -N: one segment starting at the entry, because QEMU jumps to the lowest
# loaded address of a -kernel ELF, not to e_entry.
LD=("$LD_BIN" -m elf32lriscv --no-relax -N -e _start)
"$LD_BIN" --help 2>/dev/null | grep -q -- --no-warn-rwx-segments && LD+=(--no-warn-rwx-segments)

work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

# --- firmware ------------------------------------------------------------------
# Probe: with -S QEMU loads everything and then waits paused; a missing
# firmware makes it fail at once instead.
have_opensbi() {
  timeout 3 "$QEMU" -machine virt -display none -serial none -monitor none -S -bios default >/dev/null 2>&1
  [ $? -eq 124 ]
}
if [ "$bios" = auto ]; then
  if have_opensbi; then bios=opensbi; else bios=mini; fi
fi
case "$bios" in
  opensbi)
    have_opensbi || {
      echo "qemu-check-guests: this QEMU has no rv32 OpenSBI (opensbi-riscv32-generic-fw_dynamic.bin); use --bios mini" >&2
      exit 2; }
    fw_args=(-bios default) ;;
  mini)
    "${AS[@]}" --defsym NHARTS="$smp" --defsym BOOT_HART="$boot_hart" \
      "$here/qemu-mini-sbi.S" -o "$work/mini-sbi.o" &&
    "${LD[@]}" -Ttext=0x80000000 "$work/mini-sbi.o" -o "$work/mini-sbi.elf" || {
      echo "qemu-check-guests: building the mini SBI failed" >&2; exit 2; }
    fw_args=(-bios "$work/mini-sbi.elf") ;;
  *) echo "qemu-check-guests: --bios must be auto, opensbi or mini" >&2; exit 2 ;;
esac
echo "qemu-check-guests: $("$QEMU" --version | head -n1); firmware: $bios; -smp $smp; guests linked at $base"

# --- expected output -------------------------------------------------------------
# Lines that must appear (after removing '\r'), in any order; other lines
# (firmware banners) are ignored.  Keep in step with GUESTS in
# src/guests/index.ts.
hello_input=$'hi\rthere\rabc\x04'
expect_hello() {
  cat <<'EOF'
webkvm hello: a polled 16550 UART console.
Type; Enter starts a new line, Ctrl-D powers off.
hi
there
abc
bye
EOF
}
expect_hello_irq() {
  cat <<'EOF'
webkvm hello-irq: the UART console, interrupt driven (PLIC, IRQ 10).
Type; Enter starts a new line, Ctrl-D powers off.
hi
there
abc
bye
EOF
}
expect_compute() {
  echo "compute: $smp hart(s), paging off, 20 iteration(s) per hart"
  echo "compute: checksum 0xc0950c12"
  echo "compute: all harts agree, PASS"
}
expect_compute_sv32() {
  echo "compute: $smp hart(s), paging on (Sv32, 4 MiB megapages), 20 iteration(s) per hart"
  echo "compute: checksum 0xc0950c12"
  echo "compute: all harts agree, PASS"
}
expect_smp() {
  echo "smp: boot hart $boot_hart, starting the others with SBI HSM hart_start"
  echo "smp: $smp hart(s), each adding 100000 to one shared counter with amoadd.w"
  for ((h = 0; h < smp; h++)); do echo "hart $h up"; done
  echo "smp: counter = $((smp * 100000)), expected $((smp * 100000))"
  echo "PASS"
}
expect_paging() {
  cat <<'EOF'
paging: building Sv32 page tables (4 KiB identity map, UART, megapage, user pages)
paging: Sv32 on, the kernel runs through its identity map
paging: megapage at 0xc0000000 written, read back through a 4 KiB alias at 0xd0000000: ok
paging: entering U-mode at 0x00400000
user: hello from U-mode, through the write system call
paging: page fault at 0x00600000 (store), mapped a zeroed page
paging: page fault at 0x00602010 (store), mapped a zeroed page
paging: page fault at 0x00605020 (load), mapped a zeroed page
paging: protection fault at 0x10000005 (load): page present but U=0, instruction skipped
user: demand-paged memory filled and read back, exiting
paging: user exited with status 0xbee27e0d (expected 0xbee27e0d)
paging: summary: 3 demand-zero faults, 1 protection fault(s), 2 write calls, megapage ok, user frames seen by the kernel ok
PASS
EOF
}

expect_dirty() {
  echo "dirty: $smp vCPUs, 256 pages each, 3 iterations, pattern sequential"
  echo "dirty: every page checked against its hart's iterations_done, PASS"
}
expect_paging_dirty() {
  echo "paging-dirty: Sv32 on: kernel identity-mapped with 4 KiB pages, regions half 4 KiB pages, half megapages"
  echo "paging-dirty: $smp vCPUs, 256 pages each, 3 iterations, pattern sequential"
  echo "paging-dirty: every page checked against its hart's iterations_done, PASS"
}

# --- one guest ---------------------------------------------------------------------
# source_of NAME OUT: write the guest's source to OUT.  compute-sv32 is
# compute.S with use_paging set, exactly as src/guests/index.ts derives it.
source_of() {
  case "$1" in
    compute-sv32)
      sed -E 's/^(use_paging:[[:space:]]*\.word[[:space:]]+)0/\11/' "$guests_dir/compute.S" >"$2"
      grep -Eq '^use_paging:[[:space:]]*\.word[[:space:]]+1' "$2" ;;
    *) cp "$guests_dir/$1.S" "$2" ;;
  esac
}

passed=0
failed=0
check_guest() {
  local g="$1" src="$work/$1.S" elf="$work/$1.elf" out="$work/$1.out" input="" rc why=""
  if ! source_of "$g" "$src" 2>/dev/null; then
    echo "FAIL $g: no source"; failed=$((failed + 1)); return
  fi
  if ! "${AS[@]}" "$src" -o "$work/$g.o" 2>"$work/$g.asm.log" ||
     ! "${LD[@]}" -Ttext="$base" "$work/$g.o" -o "$elf" 2>>"$work/$g.asm.log"; then
    echo "FAIL $g: assembly or link failed"; sed 's/^/    /' "$work/$g.asm.log"
    failed=$((failed + 1)); return
  fi
  case "$g" in hello|hello-irq) input="$hello_input" ;; esac
  # Input goes in after a pause, like a person typing after the banner.
  ( if [ -n "$input" ]; then sleep 1; printf '%s' "$input"; fi ) |
    timeout "$tmo" "$QEMU" -machine virt -m 64M -nographic -smp "$smp" \
      "${fw_args[@]}" -kernel "$elf" >"$out" 2>&1
  rc=${PIPESTATUS[1]}
  tr -d '\r' <"$out" >"$out.lf"

  if [ "$rc" -eq 124 ]; then why="timed out after ${tmo}s"
  elif [ "$bios" = mini ] && [ "$rc" -ne 0 ]; then why="QEMU exit status $rc (guest reported failure)"
  fi
  local missing=""
  while IFS= read -r line; do
    grep -Fxq -- "$line" "$out.lf" || missing+="    missing: $line"$'\n'
  done < <("expect_${g//-/_}")
  [ -z "$missing" ] || why="${why:+$why; }output differs"

  if [ -z "$why" ]; then
    echo "ok   $g (exit status $rc)"; passed=$((passed + 1))
  else
    echo "FAIL $g: $why"; printf '%s' "$missing"; failed=$((failed + 1))
  fi
  if [ "$verbose" = 1 ] || [ -n "$why" ]; then sed 's/^/    | /' "$out.lf"; fi
}

for g in "${selected[@]}"; do
  if ! declare -F "expect_${g//-/_}" >/dev/null; then
    echo "qemu-check-guests: unknown guest '$g'" >&2; exit 2
  fi
  check_guest "$g"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
