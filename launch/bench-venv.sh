# Sourced by the side-by-side benchmarks (launch/bench-compare.sh, launch/bench-decode.sh): sets `py` to the
# Python of the reference stack (torch, transformers, peft, gguf, numpy). BENCH_VENV names an existing venv;
# otherwise ${SECURA_CACHE:-~/.cache/secura-dist}/bench-venv is created once from PyPI (PyPI's Linux torch brings
# its CUDA libraries: a few GB, unused here; TORCH_INDEX=URL installs torch from another index where allowed).
# Needs `die` and `cache` from the caller.
reference_modules=(torch transformers peft gguf numpy)
if [ -n "${BENCH_VENV:-}" ]; then
  py="$BENCH_VENV/bin/python"
  [ -x "$py" ] || die "BENCH_VENV=$BENCH_VENV has no bin/python"
else
  venv="$cache/bench-venv"
  py="$venv/bin/python"
  if ! { [ -x "$py" ] && "$py" -c "import $(IFS=,; echo "${reference_modules[*]}")" 2>/dev/null; }; then
    echo "installing ${reference_modules[*]} into $venv (once)" >&2
    python3 -m venv "$venv" || die "cannot create a venv at $venv (Debian: apt-get install python3-venv)"
    "$py" -m pip install --quiet --upgrade pip >&2
    index="${TORCH_INDEX:-}"
    "$py" -m pip install --quiet ${index:+--index-url "$index"} torch >&2 || die "pip install torch failed"
    "$py" -m pip install --quiet "${reference_modules[@]:1}" >&2 || die "pip install ${reference_modules[*]:1} failed"
  fi
fi
missing="$("$py" - "${reference_modules[@]}" <<'PY'
import importlib.util, sys
print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))
PY
)"
[ -z "$missing" ] || die "the venv of $py lacks: $missing (pip install them there, or unset BENCH_VENV for a private venv)"
