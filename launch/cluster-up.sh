#!/usr/bin/env bash
# Makes N test hosts on this machine, as root: network namespaces node1..nodeN, each with a veth pair to
# a bridge in the root namespace, an address in a private subnet (10.77.0.K/24; the root namespace, where
# mpirun runs, is 10.77.0.254), loopback up, and its own host name (a UTS namespace per process tree,
# entered by launch/cluster-rsh.sh). Writes, in the state folder (default /tmp/secura-cluster):
#   hostfile      one line per host, "10.77.0.K slots=S"            (mpirun --hostfile)
#   mpirun.sh     mpirun with the MCA settings for these hosts        (same arguments as mpirun)
#   hosts         "nodeK 10.77.0.K" lines (what launch/cluster-rsh.sh maps)
# Open MPI starts its daemon (orted) on a host through the plm_rsh_agent launch/cluster-rsh.sh, which
# runs it inside the host's namespaces: no sshd, no keys, no daemons to stop (see that script).
# launch/cluster-down.sh removes everything again (idempotent).
#
#   launch/cluster-up.sh 2                     # node1, node2 with 2 slots each
#   SLOTS=1 launch/cluster-up.sh 2
#   $(cat /tmp/secura-cluster/mpirun) ... or: bash /tmp/secura-cluster/mpirun.sh -np 2 secura-dist doctor
set -euo pipefail
n="${1:?usage: launch/cluster-up.sh N}"
[ "$n" -ge 1 ] && [ "$n" -le 200 ] || { echo "cluster-up: N must be 1..200" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "cluster-up: needs root (ip netns, veth, bridge)" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${SECURA_CLUSTER_DIR:-/tmp/secura-cluster}"
slots="${SLOTS:-2}"
bridge=secura-br0
subnet=10.77.0
if [ -e "$state/hosts" ] || ip link show "$bridge" >/dev/null 2>&1; then
  echo "cluster-up: a cluster exists already (run launch/cluster-down.sh first)" >&2
  exit 1
fi
# Undo a half-made cluster if any step fails.
trap 'status=$?; [ $status -eq 0 ] || { echo "cluster-up: failed; tearing down" >&2; bash "$root/launch/cluster-down.sh" >&2; }' EXIT
mkdir -p "$state"
: >"$state/hosts"
: >"$state/hostfile"
ip link add "$bridge" type bridge
ip addr add "$subnet.254/24" dev "$bridge"
ip link set "$bridge" up
for k in $(seq 1 "$n"); do
  host="node$k"
  ip netns add "$host"
  echo "$host" >>"$state/namespaces"
  ip link add "secura-v$k" type veth peer name eth0 netns "$host"
  ip link set "secura-v$k" master "$bridge" up
  ip -n "$host" addr add "$subnet.$k/24" dev eth0
  ip -n "$host" link set eth0 up
  ip -n "$host" link set lo up
  # A dead peer ends an established TCP connection after ~13 s of retransmissions (5 retries) instead
  # of Linux's default ~15 min: Open MPI's daemons then notice a host whose link is cut, and mpirun ends
  # after the watchdog's MPI_Abort instead of waiting for the lost host's daemon. Per namespace: only
  # these hosts' sockets are affected (real clusters set this for MPI in the same way).
  ip netns exec "$host" sysctl -q -w net.ipv4.tcp_retries2=5
  echo "$host $subnet.$k" >>"$state/hosts"
  echo "$subnet.$k slots=$slots" >>"$state/hostfile"
done
# Check each host answers on its address from the root namespace, over the bridge: a TCP connection
# to a closed port is refused at once by a reachable host, and times out otherwise (no ping needed).
for k in $(seq 1 "$n"); do
  python3 - "$subnet.$k" <<'PY' || { echo "cluster-up: node$k ($subnet.$k) does not answer" >&2; exit 1; }
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=3).close()
except ConnectionRefusedError:
    pass
PY
done
# MCA settings: TCP between hosts and only on this subnet (never another interface), shared memory
# (vader) between ranks of one host, self for a rank to itself; the daemons' out-of-band channel on the
# subnet too; orted started by the namespace agent, directly by mpirun (no tree spawn from inside hosts).
# mpirun itself runs on node1, as on a real cluster where it runs on the first node of the allocation.
# --bind-to none: the hosts share this machine's cores, and each host's daemon would bind its first rank
# to core 0 (Open MPI binds to cores for 2 ranks or fewer), stacking every host's rank on one core.
cat >"$state/mpirun.sh" <<SH
#!/usr/bin/env bash
# mpirun on the namespace hosts made by launch/cluster-up.sh (generated; see that script), started on node1.
flags=(--hostfile "$state/hostfile" --oversubscribe --bind-to none
       --mca plm_rsh_agent "$root/launch/cluster-rsh.sh" --mca plm_rsh_no_tree_spawn 1
       --mca btl tcp,self,vader --mca btl_tcp_if_include $subnet.0/24 --mca oob_tcp_if_include $subnet.0/24
       -x SECURA_CLUSTER_DIR="$state")
[ "\$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
exec ip netns exec node1 unshare --uts sh -c 'hostname node1; exec "\$@"' sh mpirun "\${flags[@]}" "\$@"
SH
chmod +x "$state/mpirun.sh"
echo "cluster-up: $n host(s) on bridge $bridge ($subnet.0/24), state in $state"
sed 's/^/  /' "$state/hosts"
