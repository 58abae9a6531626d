"""Reading secura-dist state folders for launch/compare_states.py and launch/compare_bits.py (standard
library only): state.safetensors plus SECURA-M1's masters, reassembled from the per-rank
masters-rank*.safetensors row files (format state-2 and later: metadata "first,end,total" per tensor).

Every problem raises StateError with the file named: a truncated file, data offsets outside the data
section, a byte count that does not match dtype x shape, rows of a master missing or covered twice.
"""
import glob
import json
import math
import os
import struct
from array import array

ELEMENT_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class StateError(Exception):
    pass


def read_file(path):
    """(tensors, metadata) of one safetensors file; tensors maps name -> (dtype, shape, raw bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise StateError(f"{path}: {len(blob)} bytes, too short for a safetensors file")
    n = struct.unpack("<Q", blob[:8])[0]
    if 8 + n > len(blob):
        raise StateError(f"{path}: header of {n} bytes runs past the end of the {len(blob)}-byte file")
    try:
        header = json.loads(blob[8:8 + n])
    except ValueError as e:
        raise StateError(f"{path}: header is not JSON ({e})")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise StateError(f"{path}: {name}: data_offsets {begin}..{end} outside the {len(data)}-byte data section")
        count = math.prod(e["shape"])
        if e["dtype"] not in ELEMENT_BYTES or count * ELEMENT_BYTES[e["dtype"]] != end - begin:
            raise StateError(f"{path}: {name}: {end - begin} bytes for {e['dtype']} {e['shape']}")
        tensors[name] = (e["dtype"], e["shape"], data[begin:end])
    return tensors, metadata


def read_state(path):
    """Every tensor of a state.safetensors file with the masters of the master files beside it."""
    tensors, _ = read_file(path)
    pieces = {}
    for masters in sorted(glob.glob(os.path.join(os.path.dirname(path), "masters-rank*.safetensors"))):
        found, metadata = read_file(masters)
        for name, (dtype, shape, raw) in found.items():
            if name not in metadata:
                raise StateError(f"{masters}: {name} has no row range in the metadata")
            first, end, rows = (int(x) for x in metadata[name].split(","))
            pieces.setdefault(name, []).append((first, end, rows, dtype, shape, raw))
    for name, parts in pieces.items():
        parts.sort(key=lambda p: p[0])
        row = 0
        for first, end, *_ in parts:
            if first != row:
                raise StateError(f"{path}: {name}: rows {row}..{first} missing or covered twice in the master files")
            row = end
        if row != parts[0][2]:
            raise StateError(f"{path}: {name}: master rows end at {row} of {parts[0][2]}")
        tensors[name] = (parts[0][3], [parts[0][2]] + parts[0][4][1:], b"".join(p[5] for p in parts))
    return tensors


def floats(dtype, raw):
    """The F32 values of a tensor (None for other dtypes)."""
    if dtype != "F32":
        return None
    values = array("f")
    values.frombytes(raw)
    return values


def first_non_finite(values):
    """Index of the first NaN or Inf in values, or None. The sum (in double, which no float32 values can
    overflow at these sizes) is finite exactly when every value is, and runs in C: big masters stay fast."""
    if math.isfinite(sum(values)):
        return None
    for i, v in enumerate(values):
        if not math.isfinite(v):
            return i
    return None
