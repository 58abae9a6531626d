#!/usr/bin/env bash
# Faults that must lose nothing, with real secura-dist processes on SmolLM2 and a tiny generated task:
#   - SIGKILL while a checkpoint is being written: the hidden temporary folder is all that is left of it,
#     the previous checkpoint is byte-identical to an uninterrupted run's, `--resume auto` takes it, the
#     resumed run ends bit-identical to the uninterrupted one and its first save removes the dead folder;
#   - the disk filling up during a checkpoint (a small tmpfs): a clear error naming the file, exit non-zero,
#     no partial folder, earlier checkpoints intact; after space is freed the run resumes to the same end;
#   - the disk filling up under the metrics file: an error naming it (it was a SIGILL, status 132);
#   - the disk filling up during an export: the error names the file, no export folder appears, and an
#     earlier export in that place is left untouched;
#   - a damaged checkpoint (one flipped bit in a trained tensor, then in a master): refused, naming the tensor;
#     the same damage in the newest checkpoint under `--resume auto`: reported, and the run resumes from the
#     older checkpoint and ends bit-identical to the uninterrupted one;
#   - an output folder (or its checkpoints subfolder) on a read-only mount: refused before training starts.
# NaN/Inf on one rank only is covered in-process by NonFiniteStepTests (every rank skips or aborts together).
# The tmpfs and read-only parts need root (mount); they are reported as skipped otherwise.
#
#   launch/test-faults.sh [path/to/secura-dist]      (default .build/release/secura-dist)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/secura-dist}"
source "$root/launch/env.sh"
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok    $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $1"; [ -n "${2:-}" ] && sed 's/^/        /' <<<"$2" | tail -n 25; }
work="$(mktemp -d)"
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# mount_tmpfs DIR SIZE [ro]: a fresh tmpfs at DIR, unmounted by the EXIT trap.
mount_tmpfs() { mkdir -p "$1" && mount -t tmpfs -o "size=$2${3:+,$3}" tmpfs "$1" && mounts+=("$1"); }
started=$(date +%s)

model="$(bash "$root/launch/fetch-model.sh")"
python3 "$root/launch/apples-task.py" "$work/task.jsonl"
steps=6
train=(train --model "$model" --data "$work/task.jsonl" --method secura-m1 --cabr-init slice --batch-size 2 --max-length 48
       --lr 1e-3 --seed 7 --log-every 1 --threads 1 --validation-limit 2 --steps "$steps" --save-every 1)
bits() { python3 "$root/launch/compare_bits.py" "$1" "$2" 2>&1; }

echo "faults: an uninterrupted reference run"
if ! out="$("$bin" "${train[@]}" --output "$work/ref" 2>&1)"; then
  fail "reference run" "$out"; echo "faults: $passed passed, $failed failed"; exit 1
fi
ok "reference: $steps SECURA-M1 steps with a checkpoint after every step"

# resumes WHAT OUTPUT STEP [PATTERN]: `--resume auto` in OUTPUT must start from checkpoint STEP (and print
# a line matching PATTERN) and end bit-identical to the reference run.
resumes() {
  local out status cmp
  out="$("$bin" "${train[@]}" --resume auto --output "$2" 2>&1)"; status=$?
  if [ $status -ne 0 ] || ! grep -q "resumed from .*step-0*$3 at step $3" <<<"$out"; then
    fail "$1: --resume auto did not resume from step $3 (status $status)" "$out"; return
  fi
  if [ -n "${4:-}" ] && ! grep -q -- "$4" <<<"$out"; then
    fail "$1: no line matching '$4'" "$out"; return
  fi
  cmp="$(bits "$2/adapter" "$work/ref/adapter")" && ok "$1: --resume auto takes step $3 and ends bit-identical to the reference ($cmp)" \
    || fail "$1: the resumed run differs from the reference" "$cmp"
}

echo "faults: SIGKILL while a checkpoint is being written"
# Polls the checkpoints folder and kills the trainer the moment a checkpoint from step 3 on is being
# written (its hidden .step-N.partial-PID folder holds a file); prints "STEP FILES" of that folder.
killed="$(python3 - "$work/killed" "$bin" "${train[@]}" --output "$work/killed" <<'PY'
import os, signal, subprocess, sys, time
folder, command = sys.argv[1] + "/checkpoints", sys.argv[2:]
p = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while p.poll() is None:
    time.sleep(0.001)   # a SECURA-M1 checkpoint of SmolLM2 (96 MB) takes far longer to write
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        continue
    for n in names:
        if n.startswith(".step-") and ".partial-" in n and int(n[6:14]) >= 3:
            try:
                inside = os.listdir(os.path.join(folder, n))
            except FileNotFoundError:
                continue
            if inside:
                p.send_signal(signal.SIGKILL)
                if p.wait() != -signal.SIGKILL:
                    print("finished", p.returncode)   # it ended on its own before the signal landed
                    sys.exit(0)
                print(int(n[6:14]), ",".join(sorted(inside)))
                sys.exit(0)
print("finished", p.returncode)
PY
)"
read -r kstep kfiles <<<"$killed"
if [ "$kstep" = finished ] || [ -z "$kstep" ]; then
  fail "the trainer finished before a checkpoint could be caught mid-write ($killed)"
else
  left="$(ls -A "$work/killed/checkpoints")"
  prev=$((kstep - 1))
  if ! grep -q "^step-0*$kstep\$" <<<"$left" && grep -q "^\.step-0*$kstep\.partial-" <<<"$left"; then
    ok "SIGKILL during step $kstep's checkpoint (its hidden folder held: $kfiles): no step-$kstep folder appears"
  else
    fail "after SIGKILL during step $kstep's checkpoint the folder holds" "$left"
  fi
  cmp="$(bits "$work/killed/checkpoints/$(printf 'step-%08d' $prev)" "$work/ref/checkpoints/$(printf 'step-%08d' $prev)")" \
    && ok "the previous checkpoint (step $prev) is byte-identical to the reference's ($cmp)" || fail "checkpoint $prev after the kill" "$cmp"
  resumes "after SIGKILL" "$work/killed" "$prev"
  left="$(ls -A "$work/killed/checkpoints" | grep '^\.' || true)"
  [ -z "$left" ] && ok "the resumed run's first checkpoint removed the killed writer's hidden folder" \
    || fail "hidden folders left after the resumed run" "$left"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "faults: full disk and read-only mounts skipped (mount needs root)"
else
  echo "faults: the disk fills up during a checkpoint"
  checkpoint=$(du -sb "$work/ref/checkpoints/step-00000001" | cut -f1)
  # Room for two checkpoints, the metrics and a little slack: the third checkpoint cannot fit.
  mount_tmpfs "$work/full" $(( checkpoint * 5 / 2 + 65536 ))
  out="$("$bin" "${train[@]}" --output "$work/full/out" 2>&1)"; status=$?
  left="$(ls -A "$work/full/out/checkpoints" 2>/dev/null | tr '\n' ' ')"
  message="$(grep -i "no space left" <<<"$out" | head -n 1)"
  if [ $status -ne 0 ] && grep -q "/checkpoints/\.step-0*3\.partial-[0-9]*/[A-Za-z0-9._-]*\.\(safetensors\|json\): cannot write" <<<"$message"; then
    ok "exit $status with the file named: ${message:0:160}"
  else
    fail "full disk during a checkpoint: status $status, message not naming the file" "$out"
  fi
  [ "$left" = "step-00000001 step-00000002 " ] && ok "no partial or third checkpoint folder is left (checkpoints: $left)" \
    || fail "the checkpoints folder after the full disk holds: $left"
  for s in 1 2; do
    cmp="$(bits "$work/full/out/checkpoints/step-0000000$s" "$work/ref/checkpoints/step-0000000$s")" \
      && ok "checkpoint $s survives the full disk byte for byte ($cmp)" || fail "checkpoint $s after the full disk" "$cmp"
  done
  # Room for every remaining checkpoint and the final adapter folder.
  mount -o remount,size=$(( checkpoint * (steps + 3) )) "$work/full" || fail "remount of the full tmpfs"
  resumes "after the full disk, with space freed" "$work/full/out" 2

  echo "faults: the disk fills up during a metrics write"
  mount_tmpfs "$work/tiny" 8k
  head -c 8000 /dev/zero >"$work/tiny/fill"
  out="$("$bin" train --model "$model" --data "$work/task.jsonl" --method lora --batch-size 2 --max-length 48 --steps 2 \
    --threads 1 --validation-limit 1 --output "$work/metrics-run" --metrics "$work/tiny/metrics.jsonl" 2>&1)"; status=$?
  [ $status -ne 0 ] && [ $status -lt 128 ] && grep -q "$work/tiny/metrics.jsonl: cannot write file: No space left on device" <<<"$out" \
    && ok "a full disk under the metrics file: exit $status naming it (no crash)" || fail "full disk under the metrics file: status $status" "$out"

  echo "faults: the disk fills up during an export"
  mount_tmpfs "$work/small" 8m
  out="$("$bin" export --model "$model" --adapter "$work/ref/adapter" --format merged --output "$work/small/merged" 2>&1)"; status=$?
  message="$(grep -i "no space left" <<<"$out" | head -n 1)"
  [ $status -ne 0 ] && grep -q "\.safetensors" <<<"$message" && ok "merged export: exit $status naming the file: ${message:0:160}" \
    || fail "merged export onto a full disk: status $status" "$out"
  left="$(ls -A "$work/small")"
  [ -z "$left" ] && ok "no export folder (nor a hidden partial one) is left" || fail "after the failed export the disk holds" "$left"
  mkdir -p "$work/small/merged" && echo '{"model_type": "llama"}' >"$work/small/merged/config.json" && echo old >"$work/small/merged/model.safetensors"
  before="$(cd "$work/small/merged" && md5sum config.json model.safetensors)"
  out="$("$bin" export --model "$model" --adapter "$work/ref/adapter" --format merged --output "$work/small/merged" 2>&1)"; status=$?
  after="$(cd "$work/small/merged" && md5sum config.json model.safetensors 2>&1)"
  [ $status -ne 0 ] && [ "$before" = "$after" ] && [ "$(ls -A "$work/small")" = merged ] \
    && ok "a failed re-export leaves the earlier export untouched (exit $status)" || fail "re-export onto a full disk (status $status)" "$out"$'\n'"$after"

  echo "faults: an output folder that cannot be written"
  mount_tmpfs "$work/ro" 1m ro
  out="$("$bin" "${train[@]}" --output "$work/ro" 2>&1)"; status=$?
  [ $status -ne 0 ] && grep -q "$work/ro: the output folder is not writable" <<<"$out" && ! grep -q "^step 1/" <<<"$out" \
    && ok "a read-only output folder is refused before training (exit $status)" || fail "read-only output folder (status $status)" "$out"
  mkdir -p "$work/rw/checkpoints"
  mount_tmpfs "$work/rw/checkpoints" 1m ro
  out="$("$bin" "${train[@]}" --output "$work/rw" 2>&1)"; status=$?
  [ $status -ne 0 ] && grep -q "$work/rw/checkpoints: the output folder is not writable" <<<"$out" && ! grep -q "^step 1/" <<<"$out" \
    && ok "a read-only checkpoints subfolder is refused before training (exit $status)" || fail "read-only checkpoints subfolder (status $status)" "$out"
fi

echo "faults: a damaged checkpoint"
# flip FOLDER TARGET: flips one bit in the middle of a trained tensor (state) or of a merged master
# (masters) of the checkpoint FOLDER; prints the tensor's name.
flip() {
  python3 - "$1" "$2" <<'PY'
import glob, json, struct, sys
folder, target = sys.argv[1:]
path = folder + "/state.safetensors" if target == "state" else sorted(glob.glob(folder + "/masters-rank*.safetensors"))[0]
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    name = sorted(k for k in header if k != "__metadata__" and (target == "masters" or "cabr_B" in k))[0]
    begin, end = header[name]["data_offsets"]
    f.seek(8 + n + (begin + end) // 2)
    byte = f.read(1)[0]
    f.seek(-1, 1)
    f.write(bytes([byte ^ 0x10]))
print(name)
PY
}
for target in state masters; do
  folder="$work/damaged-$target/checkpoints/step-00000005"
  mkdir -p "$(dirname "$folder")" && cp -r "$work/ref/checkpoints/step-00000005" "$folder"
  tensor="$(flip "$folder" "$target")"
  out="$("$bin" "${train[@]}" --resume "$folder" --output "$work/damaged-$target" 2>&1)"; status=$?
  [ $status -ne 0 ] && grep -q "tensor '$tensor' is damaged" <<<"$out" && ! grep -q "^step 6/" <<<"$out" \
    && ok "a flipped bit in $target ($tensor) is refused on resume (exit $status)" || fail "damaged $target: status $status" "$out"
done
# --resume auto passes over the damaged newest checkpoint (named, with the tensor) for the older one.
mkdir -p "$work/damaged-auto/checkpoints"
cp -r "$work/ref/checkpoints/step-00000004" "$work/ref/checkpoints/step-00000005" "$work/damaged-auto/checkpoints/"
tensor="$(flip "$work/damaged-auto/checkpoints/step-00000005" state)"
resumes "a damaged newest checkpoint" "$work/damaged-auto" 4 "step-00000005 is damaged, passed over for an older one: .*'$tensor' is damaged"

echo "faults: took $(( $(date +%s) - started )) s"
echo "faults: $passed passed, $failed failed"
[ $failed -eq 0 ]
