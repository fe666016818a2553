#!/usr/bin/python3
"""PyTorch numerical reference for the C models, losses and AdamW.

usage: torch_crosscheck.py EXPORT_BINARY CONFIG.json OUT.bin [--set key=value ...]

Runs `EXPORT_BINARY CONFIG.json OUT.bin` (tests/export_reference.c, whose
header comment defines the file format), which writes the training set, the
initial parameters and, for a few full-batch AdamW steps, the loss, every
gradient and the parameters after each update, all computed by the float32 C
code. This script builds the same model in PyTorch in float64
(tests/torch_models.py), loads the initial parameters by name, and replays
the steps with torch autograd and torch.optim.AdamW. It compares, per step,
the loss, every gradient tensor and every parameter tensor after the update,
prints a table of relative errors
||c - ref||_2 / max(||ref||_2, 1e-12) and exits 1 if any exceeds TOLERANCE.

The torch side runs its own trajectory: it takes only the initial parameters
from the C side, never the parameters after an update, so an error in any
step propagates into all later comparisons.

Tolerance. The C side is float32 (unit round-off 6e-8); forward and backward
through a few matmuls, softmaxes and LayerNorms accumulate relative errors of
order 1e-7..1e-6 per tensor, well below TOLERANCE = 1e-4, while any
mistake in the math (a wrong index, a missing term, a wrong scale) gives
errors of order 1e-2 or more. Parameters after the updates are compared with
the same tolerance, without any allowance for Adam's normalization, because
that normalization cannot blow float32 gradient errors up: the update of one
element, lr * m_hat / (sqrt(v_hat) + eps), depends on its gradient g with
slope at most about lr / eps (at step 1 it is lr * g / (|g| + eps), slope
lr * eps / (|g| + eps)^2 <= lr / eps). A gradient error dg therefore moves
an element by at most ~lr * |dg| / eps, even if it flips the sign of a tiny
gradient: a 1e-9 gradient turned into -1e-9 changes the update by about
0.2 * lr, not 2 * lr. Measured on the configurations in tests/data (three
steps, eps 1e-8): no gradient has a different sign in C and in the reference,
about 600 elements of crosscheck_mlp_onehot_mse have |g| < 1e-7 (down to
2e-10) and deviate by up to 1e-4 * lr, and the largest per-element parameter
deviation anywhere is ~6e-4 * lr, at elements with large gradients, which is
float32 rounding of the stored parameter values themselves (6e-8 * |w|, |w|
up to ~4 for N(0, 1) embeddings). Per-tensor parameter errors are 3e-8..3e-6
(the largest for LayerNorm biases, which start at 0 and so have small norms).
On failure the script prints the worst elements of each failing tensor with
their reference gradients, which shows whether tiny gradients are involved.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

from run_export import ExportError, read_export
from torch_models import build_model, load_parameters, loss_fn, loss_target, model_inputs, rescale_to_norm

TOLERANCE = 1e-4  # loss, every gradient tensor, every parameter tensor


def fail(message):
    print(f"torch_crosscheck: {message}", file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------------------
# Reading the export


def run_export(binary, config, out, extra):
    cmd = [binary, config, out] + extra
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        fail(f"{' '.join(cmd)} exited with status {proc.returncode}")


def read_reference(path):
    """(header, examples, initial parameters, per-step records) of an export_reference file."""
    try:
        header, examples, init, reader = read_export(path)
        records = []
        for step in range(header["steps"]):
            loss = float(reader.take("<f8", 1, f"loss {step + 1}")[0])
            grads = reader.take("<f4", header["total"], f"gradients {step + 1}")
            params = reader.take("<f4", header["total"], f"parameters {step + 1}")
            records.append({"loss": loss, "grads": grads, "params": params})
        reader.finish()
    except ExportError as error:
        fail(str(error))
    return header, examples, init, records


def split_flat(flat, views):
    """Flat table-order buffer -> {name: float64 array of shape (rows, cols)}."""
    out, offset = {}, 0
    for v in views:
        rows, cols = v["shape"]
        out[v["name"]] = np.asarray(flat[offset:offset + rows * cols], dtype=np.float64).reshape(rows, cols)
        offset += rows * cols
    return out


# --------------------------------------------------------------------------
# Comparison


def rel_error(c, ref):
    c = np.asarray(c, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    return float(np.linalg.norm(c - ref) / max(np.linalg.norm(ref), 1e-12))


def worst_elements(c, ref, grad_ref, k=3):
    c, ref = c.ravel(), ref.ravel()
    diff = np.abs(c - ref)
    diff = np.where(np.isnan(diff), np.inf, diff)
    idx = np.argsort(-diff)[:k]
    lines = []
    for i in idx:
        g = f", ref grad {grad_ref.ravel()[i]:.3e}" if grad_ref is not None else ""
        lines.append(f"      [{i}] c {c[i]:.9g}  ref {ref[i]:.9g}  |diff| {diff[i]:.3e}{g}")
    return lines


def check_feature_ranks(header, model, inputs):
    """The C side's feature rank of each hidden layer over the training set at initialization against
    torch.linalg.matrix_rank(torch.cov(features.T)) of the float32 features (Fan et al. 2024's measure);
    returns failure lines."""
    if "feature_rank" not in header:
        return []
    with torch.no_grad():
        hidden = model.hidden(model.features(inputs))
        ref = [int(torch.linalg.matrix_rank(torch.cov(h.to(torch.float32).T))) for h in hidden]
    print(f"feature ranks at initialization over the training set: C {header['feature_rank']}, torch {ref}")
    return [] if header["feature_rank"] == ref else [f"feature ranks differ: C {header['feature_rank']}, torch {ref}"]


def main(argv):
    if len(argv) < 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    binary, config_path, out_path, extra = argv[1], argv[2], argv[3], argv[4:]
    run_export(binary, config_path, out_path, extra)
    header, examples, init_flat, records = read_reference(out_path)

    cfg, shape, views = header["config"], header["shape"], header["params"]
    opt = cfg["optimizer"]
    if opt["kind"] != "adamw":
        fail(f"optimizer.kind {opt['kind']!r}: only adamw is cross-checked")

    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    model = build_model(cfg, shape).to(torch.float64)
    params = load_parameters(model, views, init_flat)
    fixed_norm = cfg["train"]["fixed_norm"]
    initial_norm = math.sqrt(sum(float((t.detach() ** 2).sum()) for t in model.parameters()))

    inputs = model_inputs(examples)
    if inputs.is_floating_point():
        inputs = inputs.to(torch.float64)
    target = loss_target(cfg["loss"], examples, shape["n_outputs"], torch.float64)
    rank_failures = check_feature_ranks(header, model, inputs)
    lr, warmup = opt["lr"], opt["warmup_steps"]
    beta1, beta2 = opt["betas"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(beta1, beta2), eps=opt["eps"],
                                  weight_decay=opt["weight_decay"], amsgrad=False, foreach=False)

    names = [v["name"] for v in views]
    errors = {}  # (row, column) -> relative error
    failures = []
    for step, rec in enumerate(records, start=1):
        optimizer.zero_grad(set_to_none=False)
        outputs = model(inputs)
        loss = loss_fn(cfg["loss"], outputs, target)
        loss.backward()
        ref_loss = loss.item()
        err = abs(rec["loss"] - ref_loss) / max(abs(ref_loss), 1e-12)
        errors[("loss", f"g{step}")] = err
        if not err <= TOLERANCE:
            failures.append(f"step {step} loss: c {rec['loss']:.12g} ref {ref_loss:.12g} rel {err:.3e}")

        c_grads = split_flat(rec["grads"], views)
        ref_grads = {}
        for name in names:
            ref = params[name].grad.detach().numpy().reshape(c_grads[name].shape).copy()
            ref_grads[name] = ref
            err = rel_error(c_grads[name], ref)
            errors[(name, f"g{step}")] = err
            if not err <= TOLERANCE:
                failures.append(f"step {step} grad {name}: rel {err:.3e}")
                failures.extend(worst_elements(c_grads[name], ref, None))

        # lr_t = lr * min(1, t / warmup_steps) for update t (1-based)
        factor = min(1.0, step / warmup) if warmup > 0 else 1.0
        for group in optimizer.param_groups:
            group["lr"] = lr * factor
        optimizer.step()
        if fixed_norm:
            rescale_to_norm(list(model.parameters()), initial_norm)

        c_params = split_flat(rec["params"], views)
        for name in names:
            ref = params[name].detach().numpy().reshape(c_params[name].shape)
            err = rel_error(c_params[name], ref)
            errors[(name, f"w{step}")] = err
            if not err <= TOLERANCE:
                failures.append(f"step {step} param {name}: rel {err:.3e}")
                failures.extend(worst_elements(c_params[name], ref, ref_grads[name]))

    steps = len(records)
    columns = [f"g{s}" for s in range(1, steps + 1)] + [f"w{s}" for s in range(1, steps + 1)]
    width = max(len(nm) for nm in names + ["loss"])
    m = cfg["model"]
    inputs_text = f"tokens {shape['seq_len']} of {shape['vocab']}" if shape["seq_len"] else f"dense {shape['dim']}"
    print(f"{os.path.basename(config_path)}: {m['kind']} on {inputs_text}, {shape['n_outputs']} {shape['target']} "
          f"outputs, n {header['n']}, {header['total']} parameters, loss {cfg['loss']}, {steps} AdamW steps "
          f"(lr {lr}, wd {opt['weight_decay']}, warmup {warmup}{', fixed norm' if fixed_norm else ''})")
    print("relative errors ||c - ref|| / ||ref||;  gS: gradient (loss) at step S, "
          f"wS: parameters after update S; tolerance {TOLERANCE:g}")
    print(f"{'tensor':<{width}}  " + "  ".join(f"{c:>9}" for c in columns))
    for row in ["loss"] + names:
        cells = []
        for col in columns:
            e = errors.get((row, col))
            cells.append(f"{'':>9}" if e is None else f"{e:9.2e}" + ("!" if not e <= TOLERANCE else ""))
        print(f"{row:<{width}}  " + "  ".join(cells))
    worst = max(errors.values(), key=lambda e: e if e == e else math.inf)
    print(f"max relative error {worst:.3e}")
    failures += rank_failures
    if failures:
        print(f"FAIL: {sum(1 for f in failures if not f.startswith(' '))} comparisons failed")
        for line in failures:
            print("  " + line)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
