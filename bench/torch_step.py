#!/usr/bin/python3
"""The PyTorch side of bench/step_speed.py: the same training steps as
bench/step_bench.c, in float32 PyTorch on one thread.

usage: torch_step.py STEP_BENCH.bin

Reads the training set, the initial parameters, the config and the step count
from a file written by `step_bench CONFIG.json STEPS STEP_BENCH.bin`, builds
the same model (tests/torch_models.py) in float32, loads the parameters by
name, and trains the same STEPS steps with torch.optim.AdamW (the config's lr,
betas, eps and weight decay; linear warmup as groksweep's), full batch or, with
train.batch_size B below the training set, on step_bench's minibatches: step t
(from 0) takes the training examples (t*B + i) mod n, i < B, indexed out of the
training tensors inside the step. Each step, (batch indexing +) zero_grad +
forward + loss + backward + optimizer step, is timed with
time.perf_counter (and time.process_time). Data that does not change between steps (a one-hot MLP's
input vectors, MSE's one-hot targets) is built once, before the timed steps,
as a PyTorch training script builds its dataset.

Prints one JSON object on stdout: the loss, wall and CPU seconds and minor
page faults of every step, peak RSS (ru_maxrss, KiB) after setup and after the steps, the BLAS
libraries mapped into the process (from /proc/self/maps) with the OpenBLAS
core each reports, and the torch version and thread count.
"""

import ctypes
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from step_speed import read_step_bench  # noqa: E402
from torch_models import build_model, load_parameters, loss_target, model_inputs, rescale_to_norm  # noqa: E402


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def openblas_core(path):
    """The core name an OpenBLAS library reports, or None."""
    try:
        get = ctypes.CDLL(path).openblas_get_corename
    except (OSError, AttributeError):
        return None
    get.restype = ctypes.c_char_p
    return get().decode()


def mapped_blas():
    """[{path, realpath, core}] for every BLAS library mapped into this process."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            name = os.path.basename(fields[-1]) if len(fields) >= 6 else ""
            if name.startswith(("libopenblas", "libblas", "libmkl")):
                paths.add(fields[-1])
    return [{"path": p, "realpath": os.path.realpath(p), "core": openblas_core(p)} for p in sorted(paths)]


def step_function(cfg, model, arrays, shape):
    """A function of the step (from 0) returning the mean loss tensor of its batch."""
    m = cfg["model"]
    inputs = model_inputs(arrays)
    if m["kind"] == "mlp" and m["input"] == "onehot":
        inputs = model.features(inputs)
        forward = model.head
    else:
        forward = model
    target = loss_target(cfg["loss"], arrays, shape["n_outputs"], torch.float32)
    losses = {"mse": F.mse_loss, "cross_entropy": F.cross_entropy}
    if cfg["loss"] not in losses:
        raise ValueError(f"unknown loss {cfg['loss']!r}")
    loss = losses[cfg["loss"]]
    n, batch = inputs.shape[0], cfg["train"]["batch_size"]
    if batch == 0 or batch >= n:
        return lambda step: loss(forward(inputs), target)
    offsets = torch.arange(batch)

    def minibatch_loss(step):
        rows = (step * batch + offsets) % n
        return loss(forward(inputs[rows]), target[rows])
    return minibatch_loss


def train(header, arrays):
    """Run the steps; returns {losses, seconds, cpu_seconds, minor_faults, rss_setup_kib}."""
    cfg, shape = header["config"], header["shape"]
    opt = cfg["optimizer"]
    if opt["kind"] != "adamw":
        raise ValueError(f"optimizer.kind {opt['kind']!r}: the benchmark uses adamw")
    model = build_model(cfg, shape)
    load_parameters(model, header["params"], arrays["params"])
    loss_of_step = step_function(cfg, model, arrays, shape)
    parameters = list(model.parameters())
    target_norm = (sum(float((t.detach().double() ** 2).sum()) for t in parameters) ** 0.5
                   if cfg["train"]["fixed_norm"] else 0)
    lr, warmup = opt["lr"], opt["warmup_steps"]
    optimizer = torch.optim.AdamW(parameters, lr=lr, betas=tuple(opt["betas"]), eps=opt["eps"],
                                  weight_decay=opt["weight_decay"])
    record = {"losses": [], "seconds": [], "cpu_seconds": [], "minor_faults": [], "rss_setup_kib": peak_rss_kib()}
    for step in range(1, header["steps"] + 1):
        faults, cpu, start = minor_faults(), time.process_time(), time.perf_counter()
        for group in optimizer.param_groups:  # lr_t = lr * min(1, t / warmup_steps)
            group["lr"] = lr * (min(1.0, step / warmup) if warmup > 0 else 1.0)
        optimizer.zero_grad()
        loss = loss_of_step(step - 1)
        loss.backward()
        optimizer.step()
        if target_norm:
            rescale_to_norm(parameters, target_norm)
        record["seconds"].append(time.perf_counter() - start)
        record["cpu_seconds"].append(time.process_time() - cpu)
        record["minor_faults"].append(minor_faults() - faults)
        record["losses"].append(loss.item())
    return record


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.set_default_dtype(torch.float32)
    header, arrays = read_step_bench(argv[1])
    record = train(header, arrays)
    record.update(rss_steps_kib=peak_rss_kib(), blas=mapped_blas(), torch_version=torch.__version__,
                  threads=torch.get_num_threads(), glibc_tunables=os.environ.get("GLIBC_TUNABLES"))
    json.dump(record, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
