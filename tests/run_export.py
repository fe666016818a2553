"""Reading the export of a run's setup (worker/run_export.h): the header, the
training examples, the initial parameters, then the arrays each writer adds
(tests/export_reference.c, bench/step_bench.c)."""

import json

import numpy as np


class ExportError(ValueError):
    pass


class Reader:
    """Consecutive little-endian arrays of a byte buffer."""

    def __init__(self, data, offset, path):
        self.data, self.offset, self.path = data, offset, path

    def take(self, dtype, count, what):
        dtype = np.dtype(dtype)
        size = dtype.itemsize * count
        if self.offset + size > len(self.data):
            raise ExportError(f"{self.path}: truncated at {what}: need {size} bytes at offset {self.offset}, "
                              f"the file has {len(self.data)}")
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += size
        return array

    def finish(self):
        if self.offset != len(self.data):
            raise ExportError(f"{self.path}: {len(self.data) - self.offset} unexpected trailing bytes")


def read_export(path):
    """(header, examples, init_params, reader): examples is a dict with
    "tokens" (n, seq_len) int64, "features" (n, dim) float32, "labels" (n)
    int64 or "targets" (n, n_outputs) float32, whichever the shape has; the
    reader stands after the initial parameters."""
    with open(path, "rb") as f:
        data = f.read()
    newline = data.find(b"\n")
    if newline < 0:
        raise ExportError(f"{path}: no header line")
    header = json.loads(data[:newline].decode("utf-8"))
    shape, n, total = header["shape"], header["n"], header["total"]
    sizes = [rows * cols for rows, cols in (v["shape"] for v in header["params"])]
    if sum(sizes) != total:
        raise ExportError(f"{path}: parameter shapes add up to {sum(sizes)}, the header says total {total}")
    reader = Reader(data, newline + 1, path)
    examples = {}
    if shape["seq_len"]:
        tokens = reader.take("<i4", n * shape["seq_len"], "tokens").astype(np.int64).reshape(n, shape["seq_len"])
        if tokens.min() < 0 or tokens.max() >= shape["vocab"]:
            raise ExportError(f"{path}: tokens out of range [0, {shape['vocab']})")
        examples["tokens"] = tokens
    if shape["dim"]:
        examples["features"] = reader.take("<f4", n * shape["dim"], "features").reshape(n, shape["dim"])
    if shape["target"] == "class":
        labels = reader.take("<i4", n, "labels").astype(np.int64)
        if labels.min() < 0 or labels.max() >= shape["n_outputs"]:
            raise ExportError(f"{path}: labels out of range [0, {shape['n_outputs']})")
        examples["labels"] = labels
    else:
        examples["targets"] = reader.take("<f4", n * shape["n_outputs"], "targets").reshape(n, shape["n_outputs"])
    init = reader.take("<f4", total, "initial parameters")
    return header, examples, init, reader
