#!/usr/bin/env python3
"""PyTorch's side of gpt4j's AttentionBenchmark: the attention block of one GPT-2 layer alone.

The block: qkv = x W_attn + b (Linear C -> 3C); per head, softmax(q k^T / sqrt(hs) with -inf above the
diagonal) v; out = y W_proj + b (Linear C -> C). float32, CPU, no dropout, batch 8, full context; the shapes
of gpt4j's presets. Times one forward (under no_grad) and one forward+backward (out.backward(dout)), median and
minimum over --reps after --warmup, and prints one JSON line per preset.

  /usr/bin/python3 benchmarks/python/torch_attention_bench.py --preset tiny small medium
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn

PRESETS = {  # name: (C, H, T), as GptConfig.preset
    "tiny": (128, 4, 128),
    "small": (256, 4, 256),
    "medium": (384, 6, 256),
}


class Block(nn.Module):
    def __init__(self, c, h, t):
        super().__init__()
        self.h = h
        self.c_attn = nn.Linear(c, 3 * c)
        self.c_proj = nn.Linear(c, c)
        self.register_buffer("mask", torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        b, t, c = x.shape
        hs = c // self.h
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, self.h, hs).transpose(1, 2)
        k = k.view(b, t, self.h, hs).transpose(1, 2)
        v = v.view(b, t, self.h, hs).transpose(1, 2)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        s = s.masked_fill(self.mask[:t, :t], float("-inf"))
        y = torch.softmax(s, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts), min(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", nargs="+", default=["tiny", "small", "medium"], choices=list(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2: this machine's cores)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for name in args.preset:
        c, h, t = PRESETS[name]
        block = Block(c, h, t)
        x = torch.randn(args.batch, t, c, requires_grad=True)
        dout = torch.randn(args.batch, t, c)

        def fwd():
            with torch.no_grad():
                block(x)

        def fwd_bwd():
            block.zero_grad(set_to_none=False)
            x.grad = None
            block(x).backward(dout)

        f_med, f_min = timed(fwd, args.warmup, args.reps)
        fb_med, fb_min = timed(fwd_bwd, args.warmup, args.reps)
        print(json.dumps({"kind": "attention", "name": name, "C": c, "H": h, "T": t, "batch": args.batch,
                          "threads": torch.get_num_threads(), "torch": torch.__version__,
                          "forward_ms_median": round(f_med, 3), "forward_ms_min": round(f_min, 3),
                          "forward_backward_ms_median": round(fb_med, 3), "forward_backward_ms_min": round(fb_min, 3)}),
              flush=True)


if __name__ == "__main__":
    main()
