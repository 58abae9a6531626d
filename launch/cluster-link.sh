#!/usr/bin/env bash
# Shapes the links of the namespace hosts made by launch/cluster-up.sh to a given bandwidth, both
# directions: a token-bucket filter (tc tbf) on each host's eth0 (what the host sends) and on its veth end
# at the bridge (what it receives). `none` removes the shaping again.
#
#   launch/cluster-link.sh 1gbit        # every host: 1 Gbit/s up and 1 Gbit/s down
#   launch/cluster-link.sh 10gbit
#   launch/cluster-link.sh none
#
# Only bandwidth can be emulated on this machine: its kernel has no netem (`tc qdisc add ... netem` answers
# "Specified qdisc kind is unknown"), so no delay can be added to a link; the veth pairs keep their own
# latency (measured by launch/bench-network.sh), and models of real links add a real link's latency as an
# assumption instead (results/scaling/README.md).
set -euo pipefail
rate="${1:?usage: launch/cluster-link.sh RATE|none   (RATE as tc writes it: 1gbit, 10gbit, 500mbit)}"
[ "$(id -u)" -eq 0 ] || { echo "cluster-link: needs root (tc)" >&2; exit 2; }
state="${SECURA_CLUSTER_DIR:-/tmp/secura-cluster}"
[ -s "$state/hosts" ] || { echo "cluster-link: no cluster in $state (run launch/cluster-up.sh first)" >&2; exit 1; }
if [ "$rate" != none ]; then
  bits="$(python3 - "$rate" <<'PY'
import re, sys
m = re.fullmatch(r"(\d+(?:\.\d+)?)(k|m|g)?bit", sys.argv[1].lower())
if not m:
    sys.exit(1)
print(int(float(m.group(1)) * {"k": 1e3, "m": 1e6, "g": 1e9, None: 1}[m.group(2)]))
PY
)" || { echo "cluster-link: $rate: expected a rate such as 1gbit, 10gbit or 500mbit" >&2; exit 2; }
  # The bucket holds 1 ms at the rate, at least two 64 KiB segments (veth sends GSO segments of up to
  # 64 KiB: a smaller bucket could never pass one); packets wait in the queue up to 100 ms.
  burst=$(( bits / 8 / 1000 )); [ "$burst" -ge 131072 ] || burst=131072
fi
shape() {  # shape NETNS-OR-EMPTY DEVICE
  local ns=("${@:1:$#-1}") dev="${!#}"
  "${ns[@]}" tc qdisc del dev "$dev" root 2>/dev/null || true
  [ "$rate" = none ] || "${ns[@]}" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 100ms
}
while read -r host address; do
  k="${host#node}"
  shape ip netns exec "$host" eth0
  shape "secura-v$k"
done <"$state/hosts"
if [ "$rate" = none ]; then
  echo "cluster-link: links unshaped"
else
  echo "cluster-link: every host's link shaped to $rate each way (tbf, burst $burst bytes)"
fi
