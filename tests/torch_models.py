"""The groksweep models in PyTorch, with the parameter names of the C
parameter table (core/nn/mlp.c, core/nn/transformer.c), for the numerical
cross-check (tests/torch_crosscheck.py, float64) and the speed benchmark
(bench/torch_step.py, float32). A model is built for an example shape (the
"shape" of an export header) and reads a batch's inputs: tokens (n, seq_len)
or features (n, dim). Models take the dtype of torch's default at
construction; the losses follow core/nn/loss.h."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5


def activation(kind):
    if kind == "relu":
        return F.relu
    if kind == "quadratic":
        return lambda x: x * x
    if kind == "gelu":
        return lambda x: F.gelu(x)  # exact erf form (approximate="none")
    if kind == "tanh":
        return torch.tanh
    raise ValueError(f"unknown activation {kind!r}")


class Mlp(nn.Module):
    def __init__(self, m, shape):
        super().__init__()
        self.input, self.vocab, self.positions = m["input"], shape["vocab"], shape["seq_len"]
        self.act = activation(m["activation"])
        width, depth, bias = m["width"], m["depth"], m["bias"]
        if self.input == "onehot":
            in_dim = self.positions * self.vocab
        elif self.input == "dense":
            in_dim = shape["dim"]
        else:
            d = m["embed_dim"]
            self.embed = nn.Embedding(self.vocab, d)
            in_dim = d if self.input == "embed_add" else self.positions * d
        self.layers = nn.ModuleList(
            nn.Linear(in_dim if l == 0 else width, width, bias=bias) for l in range(depth))
        self.out = nn.Linear(width, shape["n_outputs"], bias=bias)

    def features(self, inputs):
        """The input vectors: the one-hots of the tokens concatenated, the sum or the concatenation of
        their embeddings, or the dense features themselves."""
        if self.input == "dense":
            return inputs
        if self.input == "onehot":
            return F.one_hot(inputs, self.vocab).reshape(inputs.shape[0], -1).to(self.out.weight.dtype)
        if self.input == "embed_add":
            return self.embed(inputs).sum(dim=1)
        if self.input == "embed_concat":
            return self.embed(inputs).reshape(inputs.shape[0], -1)
        raise ValueError(f"unknown model.input {self.input!r}")

    def hidden(self, x):
        """Every hidden layer's activations for input vectors x."""
        out = []
        for layer in self.layers:
            x = self.act(layer(x))
            out.append(x)
        return out

    def head(self, x):
        """Outputs from the input vectors x."""
        for layer in self.layers:
            x = self.act(layer(x))
        return self.out(x)

    def forward(self, inputs):
        return self.head(self.features(inputs))


def norm_or_identity(layernorm, d):
    return nn.LayerNorm(d, eps=LN_EPS) if layernorm else nn.Identity()


class Attention(nn.Module):
    def __init__(self, d, heads, bias):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d, bias=bias)
        self.k = nn.Linear(d, d, bias=bias)
        self.v = nn.Linear(d, d, bias=bias)
        self.o = nn.Linear(d, d, bias=bias)

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads

        def split(y):
            return y.view(n, t, self.heads, hd).transpose(1, 2)  # (n, heads, t, hd)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v  # (n, heads, t, hd)
        return self.o(y.transpose(1, 2).reshape(n, t, d))


class MlpBlock(nn.Module):
    def __init__(self, d, f, bias, act):
        super().__init__()
        self.fc = nn.Linear(d, f, bias=bias)
        self.proj = nn.Linear(f, d, bias=bias)
        self.act = act

    def forward(self, x):
        return self.proj(self.act(self.fc(x)))


def layernorm_placement(m):
    """model.layernorm as "none", "pre" or "post" (a JSON boolean: true is "pre", false "none")."""
    value = m["layernorm"]
    if isinstance(value, bool):
        return "pre" if value else "none"
    if value not in ("none", "pre", "post"):
        raise ValueError(f"unknown model.layernorm {value!r}")
    return value


def final_layernorm(m):
    """model.final_layernorm, defaulting to true for pre-LN and false otherwise."""
    return m.get("final_layernorm", layernorm_placement(m) == "pre")


class Block(nn.Module):
    def __init__(self, m):
        super().__init__()
        d = m["d_model"]
        self.placement = layernorm_placement(m)
        self.ln1 = norm_or_identity(self.placement != "none", d)
        self.attn = Attention(d, m["n_heads"], m.get("attention_bias", False))
        self.ln2 = norm_or_identity(self.placement != "none", d)
        self.mlp = MlpBlock(d, m["d_mlp"], m["bias"], activation(m["activation"]))

    def forward(self, x):
        if self.placement == "post":
            x = self.ln1(x + self.attn(x))
            return self.ln2(x + self.mlp(x))
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def sinusoidal_positions(seq, d):
    """openai/grok's fixed table: P[t, i] = sin(t / 10000^(i/d)) for even i, cos(t / 10000^((i-1)/d)) for odd i."""
    table = torch.zeros(seq, d, dtype=torch.float64)
    for t in range(seq):
        for i in range(d):
            angle = t / 10000 ** ((i - i % 2) / d)
            table[t, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    return table


class Transformer(nn.Module):
    def __init__(self, m, shape):
        super().__init__()
        d = m["d_model"]
        if d % m["n_heads"]:
            raise ValueError("model.d_model must be divisible by model.n_heads")
        self.embed = nn.Embedding(shape["vocab"], d)
        positions = m.get("positions", "learned")
        if positions == "learned":
            self.pos_embed = nn.Embedding(shape["seq_len"], d)
        elif positions == "sinusoidal":
            self.register_buffer("sinusoid", sinusoidal_positions(shape["seq_len"], d).to(torch.get_default_dtype()))
        else:
            raise ValueError(f"unknown model.positions {positions!r}")
        self.blocks = nn.ModuleList(Block(m) for _ in range(m["n_layers"]))
        self.ln_f = norm_or_identity(final_layernorm(m), d)
        self.unembed = nn.Linear(d, shape["n_outputs"], bias=False)

    def forward(self, tokens):
        pos = self.pos_embed.weight if hasattr(self, "pos_embed") else self.sinusoid
        x = self.embed(tokens) + pos[None, :, :]
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_f(x[:, -1, :]))


def build_model(cfg, shape):
    m = cfg["model"]
    if m["kind"] == "mlp":
        return Mlp(m, shape)
    if m["kind"] == "transformer":
        return Transformer(m, shape)
    raise ValueError(f"unknown model.kind {m['kind']!r}")


def model_inputs(examples):
    """The tensor a model reads from an export's examples: tokens or features."""
    return torch.from_numpy(examples["tokens"] if "tokens" in examples else examples["features"].copy())


def loss_target(kind, examples, n_outputs, dtype):
    """What loss_fn compares the outputs with: class indices for cross-entropy, else one-hot or vector targets."""
    if "targets" in examples:
        return torch.from_numpy(examples["targets"].copy()).to(dtype)
    labels = torch.from_numpy(examples["labels"])
    return labels if kind == "cross_entropy" else F.one_hot(labels, n_outputs).to(dtype)


def loss_fn(kind, outputs, target):
    if kind == "cross_entropy":
        return F.cross_entropy(outputs, target)
    if kind == "mse":
        return F.mse_loss(outputs, target)
    raise ValueError(f"unknown loss {kind!r}")


def rescale_to_norm(params, target_norm):
    """train.fixed_norm: rescale all parameters together to the global L2 norm target_norm."""
    with torch.no_grad():
        norm = math.sqrt(sum(float((p.detach().double() ** 2).sum()) for p in params))
        if norm > 0:
            for p in params:
                p.mul_(target_norm / norm)


def match_parameters(model, views):
    """{name: torch parameter}; asserts the two name sets and shapes agree."""
    torch_params = dict(model.named_parameters())
    names = [v["name"] for v in views]
    assert len(set(names)) == len(names), f"duplicate names in the export header: {names}"
    missing = [nm for nm in names if nm not in torch_params]
    uncovered = [nm for nm in torch_params if nm not in names]
    assert not missing, f"export tensors with no torch parameter: {missing}"
    assert not uncovered, f"torch parameters not in the export: {uncovered}"
    for v in views:
        rows, cols = v["shape"]
        shape = tuple(torch_params[v["name"]].shape)
        # a vector is stored as (1, cols); torch keeps biases and LayerNorm params 1-D
        ok = shape == (rows, cols) or (rows == 1 and shape == (cols,))
        assert ok, f"{v['name']}: export shape {(rows, cols)} vs torch shape {shape}"
    return torch_params


def load_parameters(model, views, flat):
    """Copy a flat table-order buffer (views: the export header's "params")
    into the model's parameters, by name; returns {name: torch parameter}."""
    params = match_parameters(model, views)
    offset = 0
    with torch.no_grad():
        for v in views:
            rows, cols = v["shape"]
            values = np.array(flat[offset:offset + rows * cols])  # a writable copy
            target = params[v["name"]]
            target.copy_(torch.from_numpy(values).to(target.dtype).reshape(target.shape))
            offset += rows * cols
    return params
