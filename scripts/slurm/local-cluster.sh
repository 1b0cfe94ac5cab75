#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests (tests/mpi/test_slurm.py)
# and for trying scripts/slurm/artel.sbatch by hand. Everything it makes lives
# in DIR: the munge key and socket, slurm.conf (this host's name and CPU
# count, loopback ports), the daemons' state, logs and pid files. Nothing
# outside DIR is changed, and `stop` ends only the daemons it started.
#
#   scripts/slurm/local-cluster.sh start DIR   # then: export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm/local-cluster.sh stop DIR
#
# Needs Debian's slurm-wlm and munge (scripts/setup.sh) and root (slurmd
# starts jobs as their users). Exit 3: the cluster could not start here (the
# reason is printed, with the daemons' logs).
set -uo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stop_pid() {  # the daemon whose pid file is $1, if it is still that daemon
  local file=$1 name=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

if [ "$cmd" = stop ]; then
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  stop_pid "$dir/munged.pid" munged
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

cannot() {
  echo "local-cluster: cannot start a Slurm cluster here: $*" >&2
  for log in munged.log slurmctld.log slurmd.log; do
    [ -s "$dir/$log" ] && { echo "--- $dir/$log (last lines)" >&2; tail -n 15 "$dir/$log" >&2; }
  done
  "$0" stop "$dir"
  exit 3
}
for tool in munged mungekey slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" >/dev/null || cannot "$tool is not installed (scripts/setup.sh installs slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || cannot "slurmd must run as root"

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
# Ports from the process id, so that two clusters (two test runs) do not meet.
base=$(( 20000 + ($$ % 2000) * 3 ))
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"

# munge: its own key, socket and state in DIR.
rm -f "$dir/munge/munge.key"
mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" ||
  cannot "munged did not start"
for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$dir/munge/munge.socket" ] || cannot "munged made no socket"

cat > "$dir/slurm.conf" <<CONF
# A one-node test cluster made by scripts/slurm/local-cluster.sh
ClusterName=artel-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=60
MinJobAge=600
SlurmdTimeout=300
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -f "$SLURM_CONF" -i >>"$dir/slurmctld.log" 2>&1 || cannot "slurmctld did not start"
slurmd -f "$SLURM_CONF" >>"$dir/slurmd.log" 2>&1 || cannot "slurmd did not start"
for _ in $(seq 100); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 0.2
done
case "${state:-}" in
  idle*|mix*|alloc*) echo "local-cluster: node $host ($cpus CPUs) is $state; export SLURM_CONF=$SLURM_CONF" ;;
  *) cannot "the node did not come up (sinfo: '${state:-nothing}')" ;;
esac
