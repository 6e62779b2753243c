#!/bin/sh
# Starts a private single-machine Slurm for the tests and benchmarks of
# --slurm: munged, slurmctld and two slurmd (nodes n1 and n2, 2 CPUs each),
# all with state under DIR. Clients need SLURM_CONF=DIR/slurm.conf.
# Usage: scripts/test-slurm.sh DIR      (stop it with: scripts/test-slurm.sh --stop DIR)
set -eu
free_port() { "$(dirname "$0")/free-port.sh"; }
if [ "$1" = --stop ]; then
    dir=$(cd "$2" && pwd)
    # Everything the cluster started carries its SLURM_CONF: daemons, step
    # daemons (a frozen step outlives a stopped slurmd), srun and workers.
    conf="SLURM_CONF=$dir/slurm.conf"
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = $$ ] && continue
        { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qxF "$conf" && kill -9 "$pid" 2>/dev/null
    done
    [ -f "$dir/munged.pid" ] && kill "$(cat "$dir/munged.pid")" 2>/dev/null
    exit 0
fi
mkdir -p "$1"
dir=$(cd "$1" && pwd)  # the daemons take absolute paths only
for program in munged slurmctld slurmd srun; do
    command -v $program >/dev/null || [ -x /usr/sbin/$program ] || {
        echo "test-slurm: $program is missing (make deps installs slurm-wlm and munge)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "test-slurm: needs root (slurmd runs jobs as their users)" >&2; exit 1; }
mkdir -p "$dir/munge" "$dir/state" "$dir/spool/n1" "$dir/spool/n2" "$dir/log"
chmod 755 "$dir" "$dir/munge"
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge.key"
# munged refuses group- or world-writable parents of its socket.
/usr/sbin/munged -F --force --key-file="$dir/munge.key" -S "$dir/munge/munge.sock" \
    --pid-file="$dir/munged.pid.file" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" \
    >>"$dir/log/munged.out" 2>&1 &
echo $! > "$dir/munged.pid"
ctld_port=$(free_port); n1_port=$(free_port); n2_port=$(free_port)
host=$(hostname)
cat > "$dir/slurm.conf" <<CONF
ClusterName=pftest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid.file
SlurmdPidFile=$dir/slurmd-%n.pid.file
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmdTimeout=10
ReturnToService=2
SlurmdParameters=config_overrides
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
NodeName=n1 NodeAddr=127.0.0.1 NodeHostname=$host CPUs=2 Port=$n1_port State=UNKNOWN
NodeName=n2 NodeAddr=127.0.0.1 NodeHostname=$host CPUs=2 Port=$n2_port State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
tries=0
until [ -S "$dir/munge/munge.sock" ]; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || { echo "test-slurm: munged did not start" >&2; cat "$dir/log/munged.log" >&2; exit 1; }
    sleep 0.1
done
slurmctld -D -f "$dir/slurm.conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$dir/slurm.conf" -N n1 </dev/null >>"$dir/log/slurmd-n1.out" 2>&1 &
echo $! > "$dir/slurmd-n1.pid"
slurmd -D -f "$dir/slurm.conf" -N n2 </dev/null >>"$dir/log/slurmd-n2.out" 2>&1 &
echo $! > "$dir/slurmd-n2.pid"
# Ready once both nodes are idle.
tries=0
until [ "$(sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle')" = 2 ]; do
    tries=$((tries + 1))
    [ $tries -lt 300 ] || { echo "test-slurm: nodes not idle after 30 s:" >&2; sinfo -N >&2 || true;
                            tail -5 "$dir"/log/*.log >&2; exit 1; }
    sleep 0.1
done
echo ready
