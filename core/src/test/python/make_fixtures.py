#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that gpt4j's core tests compare against (CI needs no Python).

Run from the project root, after `mvn -q -DskipTests install` (it first has Java write a model folder):
    apt-get install -y python3-torch libopenblas0-openmp
    /usr/bin/python3 core/src/test/python/make_fixtures.py              # every fixture
    /usr/bin/python3 core/src/test/python/make_fixtures.py float16      # only some: java torch adamw adamw_eps float16

What it writes under core/src/test/resources/parity/:
  java-tied/      config.json + model.safetensors written by gpt4j (tied head, bias, dropout 0); this script
                  loads them into its own PyTorch GPT-2 and adds expected.json (tokens, targets, logits, loss).
  torch-separate/ a model initialised here with a separate LM head, written in Hugging Face GPT-2 naming
                  (config.json + model.safetensors) with its expected.json; gpt4j must load it and agree.
  adamw.json      torch.optim.AdamW trajectories over a few steps (decayed and non-decayed groups).
  adamw-eps.json  the same where eps decides the update (zero and tiny gradients from the first step).
  float16-from-float32.u16le.gz, float16-to-float32.u32le.gz
                  numpy's float32 -> float16 rounding of 317,440 chosen floats, and its float16 -> float32 of every
                  half (see float16() for the inputs, which Float16Test builds the same way).
"""
import json, math, os, struct, subprocess, sys
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.abspath(__file__)) + "/../../../.."
OUT = os.path.join(ROOT, "core/src/test/resources/parity")
torch.set_num_threads(2)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gpt2_forward(W, cfg, idx, targets):
    """A plain GPT-2 forward pass over a dict of HF-named tensors (Conv1D weights are [in, out])."""
    B, T = idx.shape
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg["layer_norm_epsilon"]
    bias = cfg.get("gpt4j_bias", True)
    g = lambda k: W.get(k) if bias else None
    x = W["wte.weight"][idx] + W["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = f"h.{l}."
        a = F.layer_norm(x, (C,), W[h + "ln_1.weight"], g(h + "ln_1.bias"), eps)
        qkv = a @ W[h + "attn.c_attn.weight"] + (W[h + "attn.c_attn.bias"] if bias else 0)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ W[h + "attn.c_proj.weight"] + (W[h + "attn.c_proj.bias"] if bias else 0)
        m = F.layer_norm(x, (C,), W[h + "ln_2.weight"], g(h + "ln_2.bias"), eps)
        m = gelu(m @ W[h + "mlp.c_fc.weight"] + (W[h + "mlp.c_fc.bias"] if bias else 0))
        x = x + m @ W[h + "mlp.c_proj.weight"] + (W[h + "mlp.c_proj.bias"] if bias else 0)
    x = F.layer_norm(x, (C,), W["ln_f.weight"], g("ln_f.bias"), eps)
    head = W["wte.weight"] if cfg.get("tie_word_embeddings", True) else W["lm_head.weight"]
    logits = x @ head.T
    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-100)
    return logits, loss


def expected(folder, cfg, W, seed):
    gen = torch.Generator().manual_seed(seed)
    B, T = 2, cfg["n_positions"]
    idx = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    targets = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    targets[0, :3] = -100  # some ignored positions
    with torch.no_grad():
        logits, loss = gpt2_forward(W, cfg, idx, targets)
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"B": B, "T": T, "tokens": idx.flatten().tolist(), "targets": targets.flatten().tolist(),
                   "loss": loss.item(), "logits": [round(v, 7) for v in logits.flatten().tolist()]}, f)
    print(folder, "loss", loss.item())


def java_written():
    folder = os.path.join(OUT, "java-tied")
    with open(os.path.join(ROOT, "cli/target/classpath")) as f:  # written by mvn package
        deps = f.read().strip()
    cp = ":".join([os.path.join(ROOT, "core/target/classes"), os.path.join(ROOT, "core/target/test-classes"), deps])
    subprocess.run(["java", "-cp", cp, "dev.gpt4j.core.WriteParityModel", folder], check=True)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    expected(folder, cfg, read_safetensors(os.path.join(folder, "model.safetensors")), 1)


def torch_written():
    folder = os.path.join(OUT, "torch-separate")
    os.makedirs(folder, exist_ok=True)
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 96, "n_positions": 16,
           "n_ctx": 16, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None, "activation_function": "gelu_new",
           "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-5,
           "initializer_range": 0.02, "tie_word_embeddings": False}
    gen = torch.Generator().manual_seed(2)
    C, V, T = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    r = lambda *s: torch.randn(*s, generator=gen) * 0.2
    W = {"transformer.wte.weight": r(V, C), "transformer.wpe.weight": r(T, C)}
    for l in range(cfg["n_layer"]):
        h = f"transformer.h.{l}."
        W.update({h + "ln_1.weight": 1 + r(C), h + "ln_1.bias": r(C), h + "attn.c_attn.weight": r(C, 3 * C),
                  h + "attn.c_attn.bias": r(3 * C), h + "attn.c_proj.weight": r(C, C), h + "attn.c_proj.bias": r(C),
                  h + "ln_2.weight": 1 + r(C), h + "ln_2.bias": r(C), h + "mlp.c_fc.weight": r(C, 4 * C),
                  h + "mlp.c_fc.bias": r(4 * C), h + "mlp.c_proj.weight": r(4 * C, C), h + "mlp.c_proj.bias": r(C),
                  h + "attn.bias": torch.tril(torch.ones(1, 1, T, T))})  # HF's old causal-mask buffer
    W.update({"transformer.ln_f.weight": 1 + r(C), "transformer.ln_f.bias": r(C), "lm_head.weight": r(V, C)})
    write_safetensors(os.path.join(folder, "model.safetensors"), W)
    json.dump(cfg, open(os.path.join(folder, "config.json"), "w"), indent=2)
    ours = {k.removeprefix("transformer."): v for k, v in W.items()}
    expected(folder, cfg, ours, 3)


def adamw():
    gen = torch.Generator().manual_seed(4)
    p0 = torch.randn(10, generator=gen)
    decay = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    pd = torch.nn.Parameter(p0[:6].clone())
    pn = torch.nn.Parameter(p0[6:].clone())
    lr, wd = 0.01, 0.1
    opt = torch.optim.AdamW([{"params": [pd], "weight_decay": wd}, {"params": [pn], "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8)
    grads, after = [], []
    for step in range(5):
        g = torch.randn(10, generator=gen)
        if step == 2:
            g *= 1e-3  # small gradients exercise eps
        pd.grad, pn.grad = g[:6].clone(), g[6:].clone()
        opt.step()
        grads.append(g.tolist())
        after.append(torch.cat([pd.detach(), pn.detach()]).tolist())
    json.dump({"lr": lr, "weight_decay": wd, "betas": [0.9, 0.999], "eps": 1e-8, "initial": p0.tolist(),
               "decay_mask": decay, "grads": grads, "params_after_each_step": after},
              open(os.path.join(OUT, "adamw.json"), "w"), indent=1)


def adamw_eps():
    """AdamW where eps decides the update: gradients of 0 and of 1e-10 .. 1e-3 from the first step on (one element
    stays 0 for three steps, then turns tiny), so that sqrt(v_hat) is of eps's size or below it. Checked here in
    numpy: eps inside the square root, eps = 1e-6 or no eps each move some parameter by more than 1% (relative),
    while the float32 and float64 recomputations of torch's rule agree with torch to 2e-7."""
    import numpy as np
    gen = torch.Generator().manual_seed(5)
    scales = torch.tensor([0, 0, 1e-10, 1e-9, 3e-9, 1e-8, 3e-8, 1e-7, 1e-6, 1e-5, 1e-3, 1.0])
    n = len(scales)
    p0 = torch.randn(n, generator=gen)
    decay = [1 if i % 2 == 0 else 0 for i in range(n)]
    di, ni = [i for i in range(n) if decay[i]], [i for i in range(n) if not decay[i]]
    pd, pn = torch.nn.Parameter(p0[di].clone()), torch.nn.Parameter(p0[ni].clone())
    lr, wd, eps = 0.01, 0.1, 1e-8
    opt = torch.optim.AdamW([{"params": [pd], "weight_decay": wd}, {"params": [pn], "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=eps)
    grads, after = [], []
    for step in range(6):
        g = torch.randn(n, generator=gen) * scales
        if step >= 3:
            g[1] = 1e-9 * torch.randn(1, generator=gen).item()
        pd.grad, pn.grad = g[di].clone(), g[ni].clone()
        opt.step()
        grads.append(g.tolist())
        full = torch.empty(n)
        full[di], full[ni] = pd.detach(), pn.detach()
        after.append(full.tolist())

    def recompute(variant, dtype):
        p, mask = np.array(p0.tolist(), dtype=dtype), np.array(decay, dtype=dtype)
        m, v, out = np.zeros_like(p), np.zeros_like(p), []
        with np.errstate(all="ignore"):
            for t, g in enumerate(grads, 1):
                g = np.array(g, dtype=dtype)
                m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
                p = p - p * mask * (lr * wd)
                vh = v / (1 - 0.999 ** t)
                d = {"torch": np.sqrt(vh) + eps, "inside": np.sqrt(vh + eps), "1e-6": np.sqrt(vh) + 1e-6, "none": np.sqrt(vh)}[variant]
                p = (p - lr / (1 - 0.9 ** t) * m / d).astype(dtype)
                out.append(p)
        err = max(np.nan_to_num(np.abs(a - np.array(e)) / np.maximum(1, np.abs(np.array(e))), nan=np.inf).max() for a, e in zip(out, after))
        return err

    for dtype in (np.float32, np.float64):
        assert recompute("torch", dtype) < 2e-7, recompute("torch", dtype)
        for broken in ("inside", "1e-6", "none"):
            assert recompute(broken, dtype) > 1e-2, (broken, recompute(broken, dtype))
    json.dump({"lr": lr, "weight_decay": wd, "betas": [0.9, 0.999], "eps": eps, "initial": p0.tolist(),
               "decay_mask": decay, "grads": grads, "params_after_each_step": after},
              open(os.path.join(OUT, "adamw-eps.json"), "w"), indent=1)


def float16():
    """numpy's IEEE half conversions (round to nearest, ties to even), checked against torch's on the same inputs.

    Inputs, in this order: for the sign + then - (the negation of every + input), for every finite half h >= 0
    (0x0000 .. 0x7BFF) with value f and next half value g (65536 after 65504), mid = (f + g) / 2 (exact in float32):
    f, nextUp(f), nextDown(mid), mid, nextUp(mid) -- each float32. Output: the half bits of each, uint16 little-endian.
    The second file holds the float32 bits of every half 0x0000 .. 0xFFFF (NaN payloads kept), uint32 little-endian."""
    import gzip
    import numpy as np
    h = np.arange(0x7C00, dtype=np.uint16)
    f = h.view(np.float16).astype(np.float32)
    g = np.append(f[1:], np.float32(65536.0)).astype(np.float32)
    mid = ((f + g) / np.float32(2)).astype(np.float32)
    assert np.all(mid.astype(np.float64) == (f.astype(np.float64) + g.astype(np.float64)) / 2), "a midpoint is not exact"
    up = lambda x: np.nextafter(x, np.float32(np.inf)).astype(np.float32)
    down = lambda x: np.nextafter(x, np.float32(-np.inf)).astype(np.float32)
    pos = np.stack([f, up(f), down(mid), mid, up(mid)], axis=1).reshape(-1)
    inputs = np.concatenate([pos, -pos]).astype(np.float32)
    with np.errstate(over="ignore"):
        halves = inputs.astype(np.float16).view(np.uint16)
    by_torch = torch.from_numpy(inputs.copy()).to(torch.float16).view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(halves, by_torch), "numpy and torch round differently"
    with gzip.GzipFile(os.path.join(OUT, "float16-from-float32.u16le.gz"), "wb", mtime=0) as out:
        out.write(halves.astype("<u2").tobytes())
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32).view(np.uint32)
    with gzip.GzipFile(os.path.join(OUT, "float16-to-float32.u32le.gz"), "wb", mtime=0) as out:
        out.write(every.astype("<u4").tobytes())
    print("float16:", len(inputs), "roundings, numpy", np.__version__)


PARTS = {"java": java_written, "torch": torch_written, "adamw": adamw, "adamw_eps": adamw_eps, "float16": float16}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name in sys.argv[1:] or list(PARTS):
        PARTS[name]()
    print("torch", torch.__version__)
