#!/usr/bin/env bash
# A one-node Slurm on this machine, as root and without systemd, for trying launch/slurm-train.sh:
# installs Debian's slurm-wlm and munge if missing, creates a munge key if there is none, starts munged
# (as the munge user), slurmctld and slurmd with a generated slurm.conf whose state, spool, pid and log
# files live in the state folder (default /tmp/secura-slurm), all on loopback with ports 6917/6918.
# One node (this host, all its CPUs) rather than one slurmd per namespace host: Debian's build is not
# configured with --enable-multiple-slurmd, so one machine runs one slurmd.
# Then:  export SLURM_CONF=/tmp/secura-slurm/slurm.conf; sinfo; sbatch ...
# launch/slurm-down.sh stops every daemon started here (by pid file) and removes the state folder.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "slurm-up: needs root" >&2; exit 2; }
state="${SECURA_SLURM_DIR:-/tmp/secura-slurm}"
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >&2
fi
[ -e "$state/slurmctld.pid" ] && { echo "slurm-up: already running (launch/slurm-down.sh first)" >&2; exit 1; }
trap 'status=$?; [ $status -eq 0 ] || { echo "slurm-up: failed; stopping" >&2; bash "$root/launch/slurm-down.sh" >&2; }' EXIT
mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log" "$state/munge"
chmod 755 "$state"   # munged runs as the munge user and must reach its folder
host="$(hostname -s)"
cpus="$(nproc)"
memory=$(( $(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 * 8 / 10 ))
# munge: its own key if the machine has none, its socket and pid file in the state folder.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  touch "$state/created-munge-key"
fi
chown munge:munge /etc/munge/munge.key "$state/munge"
chmod 400 /etc/munge/munge.key
chmod 755 "$state/munge"   # munged wants the socket folder searchable by all
runuser -u munge -- munged --socket="$state/munge/munge.socket" --pid-file="$state/munge/munged.pid" \
  --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"
cat >"$state/slurm.conf" <<CONF
ClusterName=secura
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
AuthType=auth/munge
# cred_expire: also how long a requeued job waits before it may start again (default 120 s). Short here so the
# tests need not move a requeued job's start time by hand (scontrol update StartTime=now raced the requeue).
AuthInfo=socket=$state/munge/munge.socket,cred_expire=20
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Requeue a batch job that exits with the collective watchdog's status (75, EX_TEMPFAIL).
RequeueExit=75
MpiDefault=none
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$state/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  sinfo -h -o "%T" 2>/dev/null | grep -qE "^idle" && break
  sleep 0.5
done
sinfo -h -o "%T" | grep -qE "^idle" || { echo "slurm-up: node not idle:" >&2; sinfo >&2; exit 1; }
echo "slurm-up: node $host ($cpus CPUs) idle; export SLURM_CONF=$SLURM_CONF"
