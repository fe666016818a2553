"""The algebraic tasks' examples as the training code sees them (the export of
tests/export_reference.c), checked against independent definitions:

- S5 (task.kind "s5"): every label of x.y, x.y.x^-1 and x.y.x equals the
  product that Power et al.'s code computes (numpy's b[a] for x.y, sympy's
  Permutation products a*b*~a and a*b*a), over the 120 permutations of 5
  elements in itertools' lexicographic order;
- the four sequence formats lay out their tokens as documented, with the same
  split whatever the format;
- concealed bits (task.concealed_bits): one-hots of the tokens followed by k
  bits of 0 or 1, fixed per pair: the same across data fractions, the bits of
  k the first k of the bits of a larger k, different between pairs; under
  task.draws, pairs drawn with replacement with bits of their own per draw;
- bad task keys get one-line errors naming the key, the value and what is
  allowed, exit 2, and nothing written.

usage: algebraic_tasks.py GROKSWEEP EXPORT_REFERENCE WORKDIR
"""
import itertools
import json
import os
import subprocess
import sys

import numpy as np
from sympy.combinatorics.permutations import Permutation

from harness import ENV, check, finish
from run_export import read_export

GROKSWEEP, EXPORT, WORKDIR = sys.argv[1:4]
os.makedirs(WORKDIR, exist_ok=True)
BASE = os.path.join(WORKDIR, "base.json")
with open(BASE, "w") as f:
    json.dump({"model": {"kind": "mlp", "width": 4}, "loss": "cross_entropy", "train": {"steps": 3}}, f)


def export(name, *sets):
    """The training set of the config BASE with `sets` applied: (shape, examples)."""
    out = os.path.join(WORKDIR, name + ".bin")
    args = [EXPORT, BASE, out]
    for s in sets:
        args += ["--set", s]
    result = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300)
    check(result.returncode == 0, f"{name}: export exit 0, got {result.returncode}: {result.stderr[-400:]}")
    header, examples, _, _ = read_export(out)
    return header["shape"], examples


# --- S5 against numpy and sympy ------------------------------------------------------------
elements = [np.array(p) for p in itertools.permutations(range(5))]
index_of = {tuple(p): i for i, p in enumerate(elements)}
reference = {
    "x.y": lambda a, b: b[a],
    "x.y.x^-1": lambda a, b: np.array((Permutation(a) * Permutation(b) * ~Permutation(a)).array_form),
    "x.y.x": lambda a, b: np.array((Permutation(a) * Permutation(b) * Permutation(a)).array_form),
}
for op, product in reference.items():
    shape, ex = export("s5_" + op.replace("^", "").replace(".", "_"), "task.kind=s5", f"task.op={op}",
                       "task.data_fraction=0.999")
    check(shape["vocab"] == 120 and shape["n_outputs"] == 120 and shape["seq_len"] == 2,
          f"s5 {op}: 120 element tokens and classes, got {shape}")
    tokens, labels = ex["tokens"], ex["labels"]
    expected = np.array([index_of[tuple(product(elements[a], elements[b]))] for a, b in tokens])
    wrong = np.nonzero(expected != labels)[0]
    check(len(wrong) == 0, f"s5 {op}: {len(wrong)} of {len(labels)} labels differ from Power's product"
          + (f", first {tuple(tokens[wrong[0]])} -> {labels[wrong[0]]}, expected {expected[wrong[0]]}" if len(wrong) else ""))
    check(len(set(map(tuple, tokens))) == len(tokens) == int(0.999 * 14400), f"s5 {op}: distinct pairs, floor(0.999 * 14400)")
# x.y is not commutative, so the three operations are not one another
_, ex = export("s5_commute", "task.kind=s5", "task.data_fraction=0.999")
table = {tuple(t): l for t, l in zip(ex["tokens"], ex["labels"])}
check(any(table.get((b, a), l) != l for (a, b), l in table.items()), "s5 x.y: not commutative")

# --- sequence formats ----------------------------------------------------------------------
p = 13
layouts = {}
for sequence in ("a b", "a b =", "a op b =", "<bos> a op b ="):
    shape, ex = export("format_" + str(len(layouts)), f"task.p={p}", "task.data_fraction=0.5",
                       f"task.sequence={sequence}")
    layouts[sequence] = (shape, ex)
pairs = layouts["a b"][1]["tokens"]
labels = layouts["a b"][1]["labels"]
equals, op_token, bos = p, p + 1, p + 2
expected_tokens = {
    "a b": pairs,
    "a b =": np.column_stack([pairs, np.full(len(pairs), equals)]),
    "a op b =": np.column_stack([pairs[:, 0], np.full(len(pairs), op_token), pairs[:, 1], np.full(len(pairs), equals)]),
    "<bos> a op b =": np.column_stack([np.full(len(pairs), bos), pairs[:, 0], np.full(len(pairs), op_token),
                                        pairs[:, 1], np.full(len(pairs), equals)]),
}
for sequence, (shape, ex) in layouts.items():
    want = expected_tokens[sequence]
    check(shape["seq_len"] == want.shape[1] and shape["vocab"] == want.max() + 1,
          f"{sequence!r}: seq_len {want.shape[1]} and vocab {want.max() + 1}, got {shape}")
    check(np.array_equal(ex["tokens"], want), f"{sequence!r}: tokens laid out as documented, same split")
    check(np.array_equal(ex["labels"], labels), f"{sequence!r}: same labels as 'a b'")
check(np.array_equal(labels, (pairs[:, 0] + pairs[:, 1]) % p), "x+y labels")

# --- concealed bits ------------------------------------------------------------------------
def concealed(k, fraction, sequence="a b"):
    shape, ex = export(f"concealed_{k}_{fraction}_{len(sequence)}", f"task.p={p}", f"task.data_fraction={fraction}",
                       f"task.concealed_bits={k}", f"task.sequence={sequence}")
    onehot_width = shape["dim"] - k
    features = ex["features"]
    check(shape["seq_len"] == 0 and features.shape[1] == onehot_width + k, f"k={k}: dense features of width 2p + k")
    onehots = features[:, :onehot_width].reshape(len(features), -1, onehot_width // (2 if sequence == "a b" else 4))
    tokens = onehots.argmax(axis=2)
    check(np.all(onehots.sum(axis=2) == 1), f"k={k}: one 1 per token one-hot")
    bits = features[:, onehot_width:]
    check(np.all((bits == 0) | (bits == 1)), f"k={k}: bits are 0 or 1")
    return {tuple(t): b for t, b in zip(tokens, bits)}, ex["labels"], tokens


bits5, labels5, tokens5 = concealed(5, 0.5)
check(np.array_equal(tokens5, pairs) and np.array_equal(labels5, labels), "concealed bits: the same split and labels")
bits9, _, _ = concealed(9, 0.5)
check(all(np.array_equal(bits9[t][:5], b) for t, b in bits5.items()), "the bits of k = 5 are the first 5 of k = 9")
bits5_more, _, _ = concealed(5, 0.7)
shared = set(bits5) & set(bits5_more)
check(len(shared) == len(bits5) and all(np.array_equal(bits5[t], bits5_more[t]) for t in shared),
      "a pair's bits are the same at data fractions 0.5 and 0.7 (nested)")
all_bits = np.array(list(bits9.values()))
check(len({tuple(b) for b in all_bits}) > len(all_bits) // 2 and 0.3 < all_bits.mean() < 0.7,
      f"bits differ between pairs and are about half ones (mean {all_bits.mean():.2f})")
ops_bits, _, ops_tokens = concealed(4, 0.5, "a op b =")
check(np.array_equal(ops_tokens[:, [0, 2]], pairs) and np.all(ops_tokens[:, 1] == op_token),
      "concealed bits over 'a op b =': one-hots of all four tokens")

# Miller et al.'s draws: 800 examples of mod-7 pairs drawn with replacement, each with bits of its own
shape, drawn = export("draws", "task.p=7", "task.draws=800", "task.data_fraction=0.75", "task.concealed_bits=12")
features, labels_drawn = drawn["features"], drawn["labels"]
pair_of = features[:, :14].reshape(-1, 2, 7).argmax(axis=2)
check(len(features) == 600 and shape["dim"] == 14 + 12, f"draws: 600 training examples of width 2*7 + 12, got "
      f"{len(features)} x {shape['dim']}")
check(np.array_equal(labels_drawn, (pair_of[:, 0] + pair_of[:, 1]) % 7), "draws: labels of the drawn pairs")
check(len({tuple(t) for t in pair_of}) == 49, "draws: 600 draws cover all 49 pairs, so pairs repeat")
same_pair = [i for i in range(1, 600) if tuple(pair_of[i]) == tuple(pair_of[0])]
check(any(not np.array_equal(features[i, 14:], features[0, 14:]) for i in same_pair),
      "draws: repeats of a pair carry different bits")
_, fewer = export("draws_fewer", "task.p=7", "task.draws=800", "task.data_fraction=0.5", "task.concealed_bits=12")
check(np.array_equal(fewer["features"], features[:400]), "draws: a smaller fraction takes the first draws (nested)")

# --- bad input -----------------------------------------------------------------------------
def refused(label, sets, *fragments):
    curve = os.path.join(WORKDIR, "refused.csv")
    if os.path.exists(curve):
        os.remove(curve)
    args = [GROKSWEEP, "train", BASE, "--curve", curve]
    for s in sets:
        args += ["--set", s]
    result = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=60)
    lines = result.stderr.strip().splitlines()
    check(result.returncode == 2, f"{label}: exit 2, got {result.returncode}")
    check(len(lines) == 1 and all(f in result.stderr for f in fragments),
          f"{label}: one line naming {fragments}, got {result.stderr.strip()!r}")
    check(not os.path.exists(curve) and result.stdout == "", f"{label}: nothing written")


refused("modular op on s5", ["task.kind=s5", "task.op=x+y"], "task.op", '"x+y"', '"s5"', '"x.y"', '"x.y.x^-1"', '"x.y.x"')
refused("S5 op on arithmetic", ["task.op=x.y"], "task.op", '"x.y"', '"arithmetic"', '"x+y"', '"x^3+xy^2+y"')
refused("p on s5", ["task.kind=s5", "task.p=7"], "task.p", "7", "task.kind")
refused("unknown format", ["task.sequence=a op b"], "task.sequence", '"a op b"', '"a op b ="', '"<bos> a op b ="')
refused("negative bits", ["task.concealed_bits=-1"], "task.concealed_bits", "-1")
refused("bits on a transformer", ["task.concealed_bits=10", "model.kind=transformer"], "task.concealed_bits = 10",
        '"transformer"', '"mlp"')
refused("bits on embeddings", ["task.concealed_bits=10", "model.input=embed_add"], "task.concealed_bits = 10",
        '"embed_add"', '"onehot"')
refused("negative draws", ["task.draws=-5"], "task.draws", "-5")
refused("too few draws", ["task.draws=3", "task.data_fraction=0.2"], "task.data_fraction", "3 drawn examples")
refused("bits on images", ["task.kind=images", "task.concealed_bits=3"], "task.concealed_bits", "task.kind")

finish()
