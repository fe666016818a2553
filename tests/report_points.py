"""`groksweep report` point by point: the points not done with their
coordinates, the compute time, --point's reproduction (run, and compared
with the file), --base-config, --format json and markdown, bad flags.

usage: /usr/bin/python3 report_points.py GROKSWEEP WORKDIR
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import h5py
import numpy as np

from harness import ENV, check, finish
from sweep_files import TINY

GROKSWEEP, WORKDIR = sys.argv[1:3]
NOT_RUN = [0, 31]


def report(*args, cwd=None):
    return subprocess.run([GROKSWEEP, "report", *args], env=ENV, capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def labels(f, axes, p):
    index = np.unravel_index(p, f["status"].shape)
    parts = []
    for a, i in zip(axes, index):
        v = f[a][i].item()
        parts.append(f"{a}={v:g}" if isinstance(v, float) else f"{a}={v}")
    return " ".join(parts)


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    path = os.path.join(WORKDIR, "tiny.h5")
    run = subprocess.run([GROKSWEEP, "run", TINY, "-o", path, "--quiet"], env=ENV, capture_output=True, text=True)
    check(run.returncode == 0, f"the sweep runs: {run.stderr}")
    with h5py.File(path, "r+") as f:
        status = f["status"][...]
        for p in NOT_RUN:
            status[np.unravel_index(p, status.shape)] = 0
        f["status"][...] = status
    with h5py.File(path, "r") as f:
        axes = [d.keys()[0] for d in f["status"].dims]
        status = f["status"][...].ravel()
        wall = f["wall_seconds"][...].ravel()
        expected_labels = {p: labels(f, axes, p) for p in range(status.size)}
        finals = {name: f[name][...].ravel() for name in ("final_test_loss", "final_train_loss", "steps_run")}
    compute = float(wall[status != 0].astype(np.float64).sum())

    text = report(path, "--no-color")
    check(text.returncode == 0, f"report: exit 0: {text.stderr}")
    listed = re.findall(r"^  (not_run|failed|diverged)\s+(\d+): (.*)$", text.stdout, re.M)
    check(sorted(int(p) for _, p, _ in listed) == NOT_RUN and all(s == "not_run" for s, _, _ in listed),
          f"report lists the points not run by index: {listed}")
    check(all(label == expected_labels[int(p)] for _, p, label in listed),
          f"with their coordinates: {listed} vs {[expected_labels[p] for p in NOT_RUN]}")
    check(f"points over {status.size - len(NOT_RUN)} points" not in text.stdout and
          re.search(rf"^compute: .* of training over {status.size - len(NOT_RUN)} points", text.stdout, re.M),
          f"a compute line over the points that ran: {text.stdout[-600:]}")

    summary = report(path, "--format", "json")
    data = json.loads(summary.stdout) if summary.returncode == 0 else {}
    check(data.get("status") == {"not_run": 2, "done": 30, "diverged": 0, "failed": 0, "inferred": 0},
          f"json: counts by status {data.get('status')}")
    check(abs(data.get("compute_seconds", -1) - compute) <= 1e-5 * compute, f"json: compute seconds "
                                                                          f"{data.get('compute_seconds')} vs {compute}")
    check([(d["point"], d["coordinates"]) for d in data.get("not_done", [])] ==
          [(p, expected_labels[p]) for p in NOT_RUN], f"json: points not done {data.get('not_done')}")
    check([a["config_key"] for a in data.get("axes", [])][:2] == ["task.data_fraction", "optimizer.weight_decay"],
          "json: axes with their config keys")

    markdown = report(path, "--format", "markdown").stdout
    check(markdown.startswith(f"# groksweep report: {path}\n\n```text\n") and "\n```\n" in markdown and
          f"| not_run | {NOT_RUN[0]} | {expected_labels[NOT_RUN[0]]} |" in markdown,
          f"markdown: a heading, the report in a fenced block, a table of points not done: {markdown[-300:]}")

    # --point: the command it prints trains the same point to the same numbers
    p = 5
    shown = report(path, "--point", str(p))
    check(shown.returncode == 0 and expected_labels[p] in shown.stdout, f"--point {p}: {shown.stdout}")
    base = report(path, "--base-config")
    check(base.returncode == 0 and "grid" not in json.loads(base.stdout), "--base-config: the sweep without its grid")
    with open(os.path.join(WORKDIR, "base.json"), "w") as f:
        f.write(base.stdout)
    command = shown.stdout.strip().splitlines()[-1].strip()
    argv = shlex.split(command)
    check(argv[:3] == ["groksweep", "train", "base.json"], f"--point: a groksweep train command: {command}")
    trained = subprocess.run([GROKSWEEP] + argv[1:], env=ENV, capture_output=True, text=True, cwd=WORKDIR,
                             timeout=120)
    result = json.loads(trained.stdout) if trained.returncode == 0 else {}
    final = result.get("final", {})
    check(np.float32(final.get("test_loss", -1)) == finals["final_test_loss"][p] and
          np.float32(final.get("train_loss", -1)) == finals["final_train_loss"][p] and
          final.get("step") == finals["steps_run"][p],
          f"--point's command reproduces the point: {final} vs {[v[p] for v in finals.values()]}")

    for args, needle in ((["--point", "32"], "--point 32"), (["--point", "x"], "--point x"),
                         (["--format", "xml"], "--format xml")):
        bad = report(path, *args)
        message = bad.stderr.strip()
        check(bad.returncode == 2 and len(message.splitlines()) == 1 and needle in message,
              f"{' '.join(args)}: exit 2 and one line naming it: {bad.returncode} {message!r}")
    finish()


main()
