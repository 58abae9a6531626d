#!/usr/bin/env bash
# mpirun with the flags this machine needs: --allow-run-as-root when root, --oversubscribe so more
# ranks than cores work (tests, scaling experiments). Usage: launch/mpirun.sh -np 2 secura-dist ...
set -euo pipefail
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
exec mpirun "${flags[@]}" "$@"
