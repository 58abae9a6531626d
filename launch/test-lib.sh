# Shared pieces of the launch/test-*.sh suites (sourced; they define ok, fail and bin first).

# resume_and_compare WHAT OUTPUT REFERENCE TRAIN_ARGS...: after a fault, `train TRAIN_ARGS --resume auto
# --output OUTPUT` on 1 rank must resume from OUTPUT's last checkpoint and end with REFERENCE's final state
# (an uninterrupted run) byte for byte: every tensor of the adapter folder, SECURA-M1's masters included.
resume_and_compare() {
  local what="$1" output="$2" reference="$3" out status cmp
  shift 3
  out="$("$bin" train "$@" --resume auto --output "$output" 2>&1)"; status=$?
  if [ $status -eq 0 ] && grep -q "resumed from" <<<"$out"; then
    cmp="$(python3 "$root/launch/compare_bits.py" "$output/adapter" "$reference/adapter" 2>&1)" \
      && ok "the last checkpoint $what resumes on 1 rank to the uninterrupted result ($cmp)" \
      || fail "resumed run $what differs from the uninterrupted one" "$cmp"
  else
    fail "resume $what (status $status)" "$out"
  fi
}
