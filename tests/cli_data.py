"""The data of the non-arithmetic tasks as a user meets it: bad image files and
out-of-range task keys get one line naming the key or file, the value and what
is allowed, exit status 2, before anything trains or is written, from
`groksweep train`, `validate` and `run`; and a tiny run of every task works.

usage: cli_data.py GROKSWEEP_BINARY WORKDIR
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys

from harness import ENV, check, finish

BINARY, WORKDIR = sys.argv[1], sys.argv[2]


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300, env=ENV)


def write_idx(path, magic, dims, payload, compress=True, cut=0):
    data = struct.pack(">I" + "I" * len(dims), magic, *dims) + payload
    if cut:
        data = data[:-cut]
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def make_pool(directory, prefix, count, labels=None, compress=True):
    """count 4x4 images and their labels (0..2) as IDX files; returns (images, labels) paths."""
    images = os.path.join(directory, f"{prefix}-images.idx" + (".gz" if compress else ""))
    label_file = os.path.join(directory, f"{prefix}-labels.idx" + (".gz" if compress else ""))
    write_idx(images, 0x803, (count, 4, 4), bytes((7 * i) % 256 for i in range(16 * count)), compress)
    write_idx(label_file, 0x801, (labels if labels is not None else count,),
              bytes(i % 3 for i in range(labels if labels is not None else count)), compress)
    return images, label_file


def images_config(directory, **task):
    train_images, train_labels = make_pool(directory, "train", 40)
    test_images, test_labels = make_pool(directory, "test", 20, compress=False)
    base = {"kind": "images", "train_size": 30, "train_images": train_images, "train_labels": train_labels,
            "test_images": test_images, "test_labels": test_labels}
    base.update(task)
    return {"task": base, "model": {"width": 8}, "train": {"steps": 20, "eval_every": 10}}


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def expect_refusal(what, args, needles, untouched):
    """args exit 2 with one line holding every needle, and no path in untouched exists afterwards."""
    result = run(*args)
    message = result.stderr.strip()
    check(result.returncode == 2, f"{what}: exit status 2, got {result.returncode}: {message}")
    check(len(message.splitlines()) == 1, f"{what}: one line, got {message!r}")
    for needle in needles:
        check(needle in message, f"{what}: message names {needle!r}: {message!r}")
    for path in untouched:
        check(not os.path.exists(path), f"{what}: {os.path.basename(path)} was not written")


def bad_data():
    directory = os.path.join(WORKDIR, "bad")
    os.makedirs(directory)
    cfg = images_config(directory)
    task = cfg["task"]
    truncated = os.path.join(directory, "truncated.gz")
    write_idx(truncated, 0x803, (40, 4, 4), bytes(16 * 40), cut=100)
    cases = [
        ("missing image file", {"train_images": os.path.join(directory, "nowhere.gz")},
         ["task.train_images", "nowhere.gz", "No such file"]),
        ("truncated image file", {"train_images": truncated}, ["task.train_images", "truncated.gz", "truncated"]),
        ("wrong magic", {"train_images": task["train_labels"]}, ["task.train_images", "magic", "0x00000803"]),
        ("mismatched counts", {"test_labels": make_pool(directory, "short", 20, labels=19)[1]},
         ["task.test_labels", "19 labels", "20 images"]),
        ("N larger than the pool", {"train_size": 41}, ["task.train_size = 41", "40 images"]),
        ("test set larger than the pool", {"test_size": 21}, ["task.test_size = 21", "20 images"]),
    ]
    curve = os.path.join(directory, "curve.csv")
    out = os.path.join(directory, "out.h5")
    for what, change, needles in cases:
        bad = json.loads(json.dumps(cfg))
        bad["task"].update(change)
        config = write_json(os.path.join(directory, "run.json"), bad)
        expect_refusal(f"train: {what}", ["train", config, "--curve", curve], needles, [curve])
        bad["grid"] = {"train_size": [10, bad["task"]["train_size"]], "weight_decay": [1], "init_scale": [1],
                       "seed": 1}
        del bad["task"]["train_size"]
        sweep = write_json(os.path.join(directory, "sweep.json"), bad)
        expect_refusal(f"validate: {what}", ["validate", sweep], needles + ["grid point"], [])
        expect_refusal(f"run: {what}", ["run", sweep, "-o", out, "--quiet"], needles + ["grid point"],
                       [out, out + ".journal"])

    pure = [
        ("imbalance above 1", {"task": {"kind": "carvalho", "imbalance": 1.5}}, ["task.imbalance = 1.5", "[0, 1]"]),
        ("imbalance below 0", {"task": {"kind": "carvalho", "imbalance": -0.1}}, ["task.imbalance = -0.1", "[0, 1]"]),
        ("tolerance 0", {"task": {"kind": "teacher_student", "tolerance": 0}}, ["task.tolerance = 0", "> 0"]),
        ("negative tolerance", {"task": {"kind": "teacher_student", "tolerance": -1e-3}},
         ["task.tolerance = -0.001", "> 0"]),
        ("Carvalho N beyond the pools", {"task": {"kind": "carvalho", "train_size": 60000, "imbalance": 0.2}},
         ["task.train_size = 60000", "6000"]),
        ("cross-entropy on regression", {"task": {"kind": "teacher_student"}, "loss": "cross_entropy"},
         ["loss", "cross_entropy", "mse"]),
        ("a transformer on images", {"task": {"kind": "images"}, "model": {"kind": "transformer"}},
         ["model.kind", "transformer", "mlp"]),
        ("one-hot inputs on dense data", {"task": {"kind": "carvalho"}, "model": {"input": "onehot"}},
         ["model.input", "onehot", "dense"]),
        ("dense inputs on tokens", {"model": {"input": "dense"}}, ["model.input", "dense", "onehot"]),
        ("arithmetic keys on another task", {"task": {"kind": "carvalho", "p": 59}},
         ["task.p", "task.kind is \"arithmetic\""]),
    ]
    for what, config, needles in pure:
        path = write_json(os.path.join(directory, "pure.json"), config)
        expect_refusal(f"train: {what}", ["train", path, "--curve", curve], needles, [curve])


def tiny_runs():
    directory = os.path.join(WORKDIR, "tiny")
    os.makedirs(directory)
    configs = {
        "images": images_config(directory, subset="random"),
        "teacher_student": {"task": {"kind": "teacher_student", "train_size": 20, "test_size": 10},
                            "model": {"width": 16, "activation": "tanh", "init_scale": 2},
                            "train": {"steps": 20, "eval_every": 10, "fixed_norm": True}},
        "carvalho": {"task": {"kind": "carvalho", "dataset": 2, "imbalance": 0.2, "train_size": 80, "test_size": 400},
                     "model": {"width": 16, "depth": 4}, "train": {"steps": 20, "eval_every": 10,
                                                                  "feature_rank": True}},
    }
    for kind, config in configs.items():
        result = run("train", write_json(os.path.join(directory, f"{kind}.json"), config))
        check(result.returncode == 0, f"{kind}: train exits 0: {result.stderr}")
        if result.returncode != 0:
            continue
        summary = json.loads(result.stdout)
        check(summary["status"] == "done" and summary["config"]["task"]["kind"] == kind, f"{kind}: done")
        check(summary["n_train"] == config["task"]["train_size"], f"{kind}: n_train {summary['n_train']}")
    summary = json.loads(run("train", os.path.join(directory, "teacher_student.json")).stdout)
    check(summary["n_test"] == 10, "teacher_student: test_size 10")
    norms = summary["final"]["weight_norm"]
    check(norms > 0, "teacher_student: a weight norm")


os.makedirs(WORKDIR, exist_ok=True)
shutil.rmtree(WORKDIR)
os.makedirs(WORKDIR)
bad_data()
tiny_runs()
finish()
