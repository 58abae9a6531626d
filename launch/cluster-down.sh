#!/usr/bin/env bash
# Removes what launch/cluster-up.sh made: kills the processes still inside the hosts' namespaces (by pid,
# from `ip netns pids`), deletes the namespaces (their veth ends go with them), the bridge and the state
# folder. Idempotent: safe to run twice, after a failed cluster-up or a crashed job.
set -uo pipefail
state="${SECURA_CLUSTER_DIR:-/tmp/secura-cluster}"
bridge=secura-br0
hosts="$(cat "$state/namespaces" 2>/dev/null; ip netns list 2>/dev/null | awk '$1 ~ /^node[0-9]+$/ { print $1 }')"
for host in $(sort -u <<<"$hosts"); do
  # Only namespaces this script family made: listed in our state, or named nodeK with our veth peer.
  grep -qx "$host" "$state/namespaces" 2>/dev/null || ip link show "secura-v${host#node}" >/dev/null 2>&1 || continue
  pids="$(ip netns pids "$host" 2>/dev/null || true)"
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$host" 2>/dev/null
done
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1 | grep -E '^secura-v[0-9]+$'); do
  ip link del "$link" 2>/dev/null
done
ip link del "$bridge" 2>/dev/null
rm -rf "$state"
echo "cluster-down: removed"
exit 0
