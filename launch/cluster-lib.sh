# The shared prologue of the scripts that run on namespace hosts (sourced after setting root):
#
#   cluster_start NAME HOSTS SLOTS
#
# Refuses without root, makes a private state folder (SECURA_CLUSTER_DIR) and a work folder ($work), removes
# what a killed earlier run left (one cluster per machine: the bridge and host names are fixed), starts
# HOSTS hosts with SLOTS slots each, and tears everything down when the script exits, also after a failure.
# Sets $work and $mpi (the cluster's mpirun wrapper). Returns non-zero with cluster-up's output on standard
# error when the hosts cannot be made.
cluster_start() {
  local name="$1" hosts="$2" slots="$3" out
  [ "$(id -u)" -eq 0 ] || { echo "$name: needs root (network namespaces)" >&2; return 2; }
  export SECURA_CLUSTER_DIR="$(mktemp -d)/cluster"
  work="$(mktemp -d)"
  trap 'bash "$root/launch/cluster-down.sh" >/dev/null 2>&1; rm -rf "$work" "$(dirname "$SECURA_CLUSTER_DIR")"' EXIT
  trap 'exit 130' INT TERM
  bash "$root/launch/cluster-down.sh" >/dev/null 2>&1
  if ! out="$(SLOTS="$slots" bash "$root/launch/cluster-up.sh" "$hosts" 2>&1)"; then
    echo "$name: cluster-up.sh $hosts failed:" >&2
    echo "$out" >&2
    return 1
  fi
  mpi="$SECURA_CLUSTER_DIR/mpirun.sh"
}
