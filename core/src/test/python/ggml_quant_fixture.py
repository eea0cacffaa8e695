#!/usr/bin/env python3
"""Writes core/src/test/resources/quant/ggml_quant_fixture.txt: inputs and the bytes llama.cpp's own reference
quantizers make of them, for QuantGgmlFixtureTest.

The quantizers come from the prebuilt libggml-base.so of the npm package @node-llama-cpp/linux-x64 3.22.1 (the
binary half of node-llama-cpp 3.22.1), which exports quantize_row_q8_0_ref, quantize_row_q4_0_ref, their
dequantizers and ggml's fp16 row conversions. Install it outside the repository and point this script at it:

    mkdir -p /work/scratch-quant && cd /work/scratch-quant
    npm install --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
    python3 core/src/test/python/ggml_quant_fixture.py \
        /work/scratch-quant/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so

Only the standard library is used (ctypes, struct, random). Each case is [rows, cols], every row quantized by one
call, as ggml quantizes a tensor row by row. Floats are written as their IEEE bits in hex, bytes as hex.
"""
import ctypes
import math
import os
import random
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "quant", "ggml_quant_fixture.txt")


def f32(v):
    """v rounded to float32."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def cases():
    rnd = random.Random(20240622)
    out = []

    def block(values):
        assert len(values) == 32
        return [f32(v) for v in values]

    out.append(("zeros", 1, 32, [0.0] * 32))
    out.append(("negative_zeros", 1, 32, [-0.0] * 32))
    small = [rnd.uniform(-1e-3, 1e-3) for _ in range(32)]
    small[5] = 1000.0
    out.append(("one_huge_value", 1, 32, block(small)))
    neg = [rnd.uniform(-1, 1) for _ in range(32)]
    neg[17] = -3.0
    out.append(("negative_max", 1, 32, block(neg)))
    # equal magnitudes with opposite signs: Q4_0 keeps the first one it meets
    a = [rnd.uniform(-1, 1) for _ in range(32)]
    a[3], a[20] = -3.0, 3.0
    b = [rnd.uniform(-1, 1) for _ in range(32)]
    b[3], b[20] = 3.0, -3.0
    out.append(("tied_magnitudes", 1, 64, block(a) + block(b)))
    # Q8_0 ties: amax 127 makes d = 1, so x * id = x and roundf meets exact halves (away from zero)
    t8 = [127.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 63.5, -63.5, 0.49999997, -0.49999997, 3.5, -3.5, 0.0]
    t8 += [float(k) + 0.5 for k in range(-8, 8)]
    out.append(("q8_0_rounding_ties", 1, 32, block(t8)))
    # Q4_0 ties: max -8 makes d = 1 and id = 1, so x + 8.5 lands on exact integers and halves
    t4 = [-8.0, 0.5, -0.5, 7.5, 8.0, -7.5, -7.6, 7.4, 6.5, -6.5, 1.5, -1.5, 0.0, -0.0, 2.5, -2.5]
    # just below a half: x + 8.5 rounds up to an integer in float32, so ggml's truncation differs from rounding x
    t4 += [0.49999997, -0.49999997, 1.4999999, -1.4999999, 6.4999995, -6.5000005, 7.4999995, 3.4999998]
    t4 += [k * 0.5 for k in range(-4, 4)]
    out.append(("q4_0_rounding_ties_and_clamp", 1, 32, block(t4)))
    # the opposite extreme of Q4_0's range clamps to 15
    c = [rnd.uniform(-1, 1) for _ in range(32)]
    c[0], c[31] = 2.0, -2.0
    out.append(("q4_0_clamp", 1, 32, block(c)))
    # tiny scales: fp16 subnormal d, and d that rounds to zero in fp16 while id stays finite
    out.append(("tiny_scales", 2, 32,
                block([rnd.uniform(-1e-6, 1e-6) for _ in range(32)]) + block([rnd.uniform(-1e-9, 1e-9) for _ in range(32)])))
    # d exactly halfway between two fp16 values: round to even
    h1 = [rnd.uniform(-1, 1) for _ in range(32)]
    h1[7] = 127.0 * (1 + 2 ** -11)
    h2 = [rnd.uniform(-1, 1) for _ in range(32)]
    h2[9] = 127.0 * (1 + 3 * 2 ** -11)
    h3 = [rnd.uniform(-1, 1) for _ in range(32)]
    h3[11] = -8.0 * (1 + 2 ** -11)
    h4 = [rnd.uniform(-1, 1) for _ in range(32)]
    h4[13] = 8.0 * (1 + 3 * 2 ** -11)
    out.append(("fp16_scale_ties", 1, 128, block(h1) + block(h2) + block(h3) + block(h4)))
    # large but within both scales' fp16 range (Q4_0: |max| / 8 <= 65504; beyond it ggml stores an infinite d, gpt4j refuses)
    out.append(("large_values", 1, 32, block([rnd.uniform(-5e5, 5e5) for _ in range(32)])))
    # F16 edges: the largest half, values that round to it, subnormals and their ties
    fe = [65504.0, -65504.0, 65519.0, 65519.99, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 * (1 - 2 ** -11),
          1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 1e-7, -1e-7, 6e-5, 0.1, -0.1, 1 / 3, 2.0 ** -26, 1e-8]
    fe += [rnd.uniform(-100, 100) for _ in range(12)]
    out.append(("f16_edges", 1, 32, block(fe)))
    out.append(("normal_small_std", 8, 64, [f32(rnd.gauss(0, 0.02)) for _ in range(8 * 64)]))
    out.append(("normal_unit_std", 4, 128, [f32(rnd.gauss(0, 1)) for _ in range(4 * 128)]))
    mixed = []
    for blk in range(8):
        s = 10.0 ** rnd.uniform(-4, 2)
        mixed += [f32(rnd.gauss(0, s)) for _ in range(32)]
    out.append(("mixed_block_scales", 2, 128, mixed))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ggml_quant_fixture.py path/to/libggml-base.so")
    lib = ctypes.CDLL(sys.argv[1])
    fp, vp, i64 = ctypes.POINTER(ctypes.c_float), ctypes.c_void_p, ctypes.c_int64
    for name in ("quantize_row_q8_0_ref", "quantize_row_q4_0_ref"):
        getattr(lib, name).argtypes = [fp, vp, i64]
        getattr(lib, name).restype = None
    for name in ("dequantize_row_q8_0", "dequantize_row_q4_0"):
        getattr(lib, name).argtypes = [vp, fp, i64]
        getattr(lib, name).restype = None
    lib.ggml_fp32_to_fp16_row.argtypes = [fp, vp, i64]
    lib.ggml_fp16_to_fp32_row.argtypes = [vp, fp, i64]

    def quant(kind, row, block_bytes):
        n = len(row)
        x = (ctypes.c_float * n)(*row)
        buf = ctypes.create_string_buffer(n // 32 * block_bytes)
        getattr(lib, "quantize_row_%s_ref" % kind)(x, buf, n)
        deq = (ctypes.c_float * n)()
        getattr(lib, "dequantize_row_%s" % kind)(buf, deq, n)
        return buf.raw, list(deq)

    lines = ["# llama.cpp reference quantizers on these inputs; written by core/src/test/python/ggml_quant_fixture.py",
             "# from libggml-base.so of @node-llama-cpp/linux-x64 3.22.1 (node-llama-cpp 3.22.1). Do not edit.",
             "# case NAME ROWS COLS / x: input float bits / q8_0, q4_0, f16: ggml's bytes / *_deq: ggml's dequantized float bits"]
    bits = lambda vs: " ".join("%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in vs)
    for name, rows, cols, x in cases():
        assert len(x) == rows * cols
        lines.append("case %s %d %d" % (name, rows, cols))
        lines.append("x " + bits(x))
        for kind, bb in (("q8_0", 34), ("q4_0", 18)):
            data, deq = b"", []
            for r in range(rows):
                d, q = quant(kind, x[r * cols:(r + 1) * cols], bb)
                data += d
                deq += q
            lines.append("%s %s" % (kind, data.hex()))
            lines.append("%s_deq %s" % (kind, bits(deq)))
        if max(abs(v) for v in x) < 65520.0:  # rounds to a finite half
            n = len(x)
            h = ctypes.create_string_buffer(2 * n)
            lib.ggml_fp32_to_fp16_row((ctypes.c_float * n)(*x), h, n)
            back = (ctypes.c_float * n)()
            lib.ggml_fp16_to_fp32_row(h, back, n)
            assert all(math.isfinite(v) for v in back)
            lines.append("f16 " + h.raw.hex())
            lines.append("f16_deq " + bits(back))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
