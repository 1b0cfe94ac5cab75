#!/bin/bash
# Usage: run.sh <binary> <cpu-model> [test-args...]
#   cpu-model: a bochs model: corei7_skylake_x (Highway avx3); tigerlake (avx3_dl) hangs while Debian 12's kernel boots.
#   env: IPS (bochs ips, default 200000000), TIMEOUT (seconds of wall time, default 3600),
#        RUNS (where each run leaves its logs, default build/avx512-emulated/runs),
#        KERNEL, SEQ_FILE, EXTRA_PATHS, KERNEL_EXTRA (see build-iso.sh)
# Boots the binary under bochs in an AVX-512 CPU, runs it with the args, prints the guest's
# serial output (host-timestamped copy in <rundir>/serial.ts), and exits with the binary's exit code
# (or 124 on timeout, 125 if no result was seen).
set -uo pipefail
H=$(cd "$(dirname "$0")" && pwd)
bin=$1; model=$2; shift 2
IPS=${IPS:-200000000}; TIMEOUT=${TIMEOUT:-3600}
run=${RUNS:-$H/../../build/avx512-emulated/runs}/$(date +%Y%m%d-%H%M%S)-$model
mkdir -p "$run"
"$H/build-iso.sh" "$run/boot.iso" "$bin" "$@" > "$run/build.log" 2>&1 || { cat "$run/build.log"; exit 2; }
sed -e "s|@CPU@|$model|" -e "s|@IPS@|$IPS|" -e "s|@ISO@|$run/boot.iso|" \
    -e "s|@SERIAL@|$run/serial.log|" -e "s|@LOG@|$run/bochs.log|" "$H/bochsrc.in" > "$run/bochsrc"
: > "$run/serial.log"
# host-side timestamps of each complete serial line, appended by the wait loop
: > "$run/serial.ts"; seen=0
stamp() { local n; n=$(wc -l < "$run/serial.log"); if [ "$n" -gt "$seen" ]; then
  sed -n "$((seen+1)),${n}p" "$run/serial.log" | tr -d '\r' | while IFS= read -r l; do printf '%s +%ss %s\n' "$(date +%T)" "$(( $(date +%s) - start ))" "$l"; done >> "$run/serial.ts"; seen=$n; fi; }
sock=avx512h-$$
start=$(date +%s)
echo "run dir: $run  (cpu=$model ips=$IPS)  started $(date +%T)"
# term display needs a tty: run bochs in a private detached tmux server
TERM=xterm tmux -L "$sock" new-session -d -x 100 -y 40 "bochs -q -f '$run/bochsrc' -rc '$H/dbg.rc' > '$run/bochs.stdout' 2>&1; echo \$? > '$run/bochs.rc'"
drained=
while :; do
  # bochs' term GUI (debugger build) writes the guest screen to a fresh pty nobody reads: once its buffer
  # fills, bochs blocks. Drain it from a second window of the private tmux server.
  if [ -z "$drained" ] && pts=$(grep -ao 'connected to screen "[^"]*"' "$run/bochs.stdout" 2>/dev/null | cut -d'"' -f2) && [ -n "$pts" ]; then
    tmux -L "$sock" new-window -d "cat $pts > /dev/null"; drained=$pts
  fi
  stamp
  [ -e "$run/bochs.rc" ] && break
  tmux -L "$sock" has-session 2>/dev/null || { echo "bochs session vanished"; break; }
  if [ $(( $(date +%s) - start )) -ge "$TIMEOUT" ]; then
    echo "TIMEOUT after ${TIMEOUT}s"; 
    tmux -L "$sock" kill-server 2>/dev/null; timedout=1; break
  fi
  sleep 2
done
end=$(date +%s)
stamp
tmux -L "$sock" kill-server 2>/dev/null
tr -d '\r' < "$run/serial.log" > "$run/serial.txt"
echo "----- guest serial (from tests begin) -----"
sed -n '/AVX512HARNESS GUEST UP/,$p' "$run/serial.txt" | grep -v '^=== flags:'
echo "----- wall: total $((end-start))s (incl. boot); timestamps of markers:"
grep -E 'AVX512HARNESS' "$run/serial.ts" | tr -d '\r'
if [ -n "${timedout:-}" ]; then exit 124; fi
rc=$(sed -n 's/.*AVX512HARNESS TESTS END rc=\([0-9]*\).*/\1/p' "$run/serial.txt" | tail -1)
[ -n "$rc" ] && exit "$rc" || exit 125
