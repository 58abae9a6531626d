#!/usr/bin/env python3
"""Writes the small arithmetic task that the multi-process, cluster and Slurm checks train on:
"How many apples are N apples and M apples?" → "N+M", for N in 1..MAX_N and M in 1..MAX_M (default 6 × 5 = 30
records), as JSON Lines.

    python3 launch/apples-task.py OUT.jsonl [MAX_N MAX_M]
"""
import json
import sys


def main(argv):
    if len(argv) not in (1, 3):
        sys.exit(__doc__)
    max_n, max_m = (int(argv[1]), int(argv[2])) if len(argv) == 3 else (6, 5)
    with open(argv[0], "w") as f:
        for n in range(1, max_n + 1):
            for m in range(1, max_m + 1):
                f.write(json.dumps({"input": f"How many apples are {n} apples and {m} apples?", "output": str(n + m)}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
