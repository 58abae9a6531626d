#!/usr/bin/env bash
# Open MPI's plm_rsh_agent for the namespace hosts of launch/cluster-up.sh: called as
#   cluster-rsh.sh [ssh-style options] HOST COMMAND...
# like ssh, it runs COMMAND (a shell command line: Open MPI quotes its orted arguments for a remote
# shell) on HOST, here by entering the host's network namespace and a fresh UTS namespace whose host
# name is the host's (so MPI_Get_processor_name and Open MPI's own node names are "nodeK").
# Why not sshd per host: the namespaces share this machine's file system and users, so ssh would add
# only keys, daemons and their clean-up; entering the namespace gives the same process tree (orted and
# its ranks live in the host's namespaces) with nothing left running when the job ends.
set -euo pipefail
state="${SECURA_CLUSTER_DIR:-/tmp/secura-cluster}"
while [ $# -gt 0 ]; do
  case "$1" in
    -x|-T|-q|-n|-t|-tt) shift ;;   # ssh flags Open MPI may pass: no meaning here
    -o|-l|-p) shift 2 ;;
    *) break ;;
  esac
done
target="${1:?cluster-rsh: no host}"
shift
host="$(awk -v t="$target" '$1 == t || $2 == t { print $1; exit }' "$state/hosts" 2>/dev/null || true)"
[ -n "$host" ] || { echo "cluster-rsh: unknown host $target (not in $state/hosts)" >&2; exit 255; }
exec ip netns exec "$host" unshare --uts sh -c 'hostname "$0"; exec sh -c "$1"' "$host" "$*"
