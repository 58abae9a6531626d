#!/usr/bin/env bash
# Stops the daemons launch/slurm-up.sh started (slurmd, slurmctld, munged: by their pid files) and
# removes its state folder. Idempotent. The munge key stays unless slurm-up.sh created it.
set -uo pipefail
state="${SECURA_SLURM_DIR:-/tmp/secura-slurm}"
for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
  [ -s "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
done
[ -e "$state/created-munge-key" ] && rm -f /etc/munge/munge.key
rm -rf "$state"
echo "slurm-down: stopped"
exit 0
