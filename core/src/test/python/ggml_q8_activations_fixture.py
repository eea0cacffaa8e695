#!/usr/bin/env python3
"""Writes core/src/test/resources/quant/ggml_q8_activations_fixture.txt: activation rows, what llama.cpp's CPU backend
quantizes them to before a product with Q8_0 or Q4_0 weights, and its dot products, for QuantQ8ActivationsTest.

The functions are those of the prebuilt CPU backends of the npm package @node-llama-cpp/linux-x64 3.22.1 (llama.cpp
release v0.5.0): ggml-cpu's quantize_row_q8_0 (the x86 AVX/AVX2 path: d = fp16(amax / 127), q = rint(x * 127 / amax)),
ggml_vec_dot_q8_0_q8_0 and ggml_vec_dot_q4_0_q8_0; the weights are quantized by libggml-base's reference quantizers.
Every CPU variant given is checked to make the same quantized bytes (they share this code), and the dot products of
the first are written. Install the package outside the repository (or use benchmarks/llamacpp) and run:

    D=benchmarks/llamacpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
    python3 core/src/test/python/ggml_q8_activations_fixture.py $D/libggml-base.so \
        $D/libggml-cpu-haswell.so $D/libggml-cpu-zen4.so

Only the standard library is used (ctypes, struct, random). Floats are written as their IEEE bits in hex, bytes as hex.
"""
import ctypes
import os
import random
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "quant", "ggml_q8_activations_fixture.txt")


def f32(v):
    """v rounded to float32."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def activation_cases():
    """(name, rows, cols, values): rows of activations, cols a multiple of 32."""
    rnd = random.Random(20250114)
    out = []
    out.append(("zeros", 1, 32, [0.0] * 32))
    # amax 127 makes 127 / amax = 1: x itself is rounded, so exact halves meet the tie rule (to even on x86)
    t = [127.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 63.5, -63.5, 0.49999997, -0.49999997, 3.5, -3.5, 0.0]
    t += [float(k) + 0.5 for k in range(-8, 8)]
    out.append(("ties", 1, 32, [f32(v) for v in t]))
    # amax 254: x * (127 / 254) = x * 0.5 exactly, ties again
    out.append(("ties_half", 1, 32, [f32(v) for v in [254.0] + [float(2 * k + 1) for k in range(-15, 16)]]))
    # the multiplier: 127 / amax, not 1 / (amax / 127) as the reference quantizer has it. For this amax the two differ by
    # an ulp, and these x (found by a search) land on different sides of a half with one and the other
    amax = struct.unpack("<f", struct.pack("<I", 1111348517))[0]
    xs = [struct.unpack("<f", struct.pack("<I", b))[0] for b in (1057980121, 1064249537, 1067936083, 1071070791, 1075541015, 1077108368)]
    m = [amax] + xs + [-v for v in xs]
    m += [f32(rnd.uniform(-amax, amax)) for _ in range(32 - len(m))]
    out.append(("multiplier", 1, 32, m))
    neg = [rnd.uniform(-1, 1) for _ in range(32)]
    neg[9] = -5.0
    out.append(("negative_max", 1, 32, [f32(v) for v in neg]))
    # a scale below fp16's normal range, and one so small that 127 / amax overflows (q = -128 everywhere, d = 0)
    out.append(("tiny", 1, 64, [f32(rnd.uniform(-1e-6, 1e-6)) for _ in range(32)] + [f32(rnd.uniform(-1e-38, 1e-38)) for _ in range(32)]))
    out.append(("large", 1, 32, [f32(rnd.uniform(-3e5, 3e5)) for _ in range(32)]))
    out.append(("unit", 3, 256, [f32(rnd.gauss(0, 1)) for _ in range(3 * 256)]))
    # LayerNorm outputs and GELU outputs look like this: mostly small, a few large values per row
    mixed = []
    for _ in range(2 * 384):
        v = rnd.gauss(0, 0.5)
        if rnd.random() < 0.02:
            v *= 30
        mixed.append(f32(v))
    out.append(("outliers", 2, 384, mixed))
    gelu = [f32(max(-0.17, rnd.gauss(0, 1.2))) for _ in range(1536)]
    out.append(("gelu_like", 1, 1536, gelu))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: ggml_q8_activations_fixture.py libggml-base.so libggml-cpu-VARIANT.so [more variants]")
    base = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
    cpus = [ctypes.CDLL(p) for p in sys.argv[2:]]
    fp, vp, i64, sz = ctypes.POINTER(ctypes.c_float), ctypes.c_void_p, ctypes.c_int64, ctypes.c_size_t
    for name in ("quantize_row_q8_0_ref", "quantize_row_q4_0_ref"):
        getattr(base, name).argtypes = [fp, vp, i64]
        getattr(base, name).restype = None
    for cpu in cpus:
        cpu.ggml_cpu_init.restype = None
        cpu.ggml_cpu_init()
        cpu.quantize_row_q8_0.argtypes = [fp, vp, i64]
        cpu.quantize_row_q8_0.restype = None
        for name in ("ggml_vec_dot_q8_0_q8_0", "ggml_vec_dot_q4_0_q8_0"):
            getattr(cpu, name).argtypes = [ctypes.c_int, fp, sz, vp, sz, vp, sz, ctypes.c_int]
            getattr(cpu, name).restype = None
    cpu = cpus[0]

    def act(lib, row):
        n = len(row)
        buf = ctypes.create_string_buffer(n // 32 * 34)
        lib.quantize_row_q8_0((ctypes.c_float * n)(*row), buf, n)
        return buf.raw

    def weights(kind, row):
        n = len(row)
        buf = ctypes.create_string_buffer(n // 32 * (34 if kind == "q8_0" else 18))
        getattr(base, "quantize_row_%s_ref" % kind)((ctypes.c_float * n)(*row), buf, n)
        return buf.raw

    def dot(kind, w, a, n):
        s = ctypes.c_float()
        getattr(cpu, "ggml_vec_dot_%s_q8_0" % kind)(n, ctypes.byref(s), 0, w, 0, a, 0, 1)
        return s.value

    rnd = random.Random(7)
    bits = lambda vs: " ".join("%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in vs)
    lines = ["# llama.cpp's CPU backend on these activations; written by core/src/test/python/ggml_q8_activations_fixture.py",
             "# from %s (@node-llama-cpp/linux-x64 3.22.1, llama.cpp v0.5.0). Do not edit." % ", ".join(os.path.basename(p) for p in sys.argv[2:]),
             "# case NAME ROWS COLS / x: activation float bits / xq: quantize_row_q8_0's block_q8_0 bytes, all rows",
             "# w_q8_0, w_q4_0: 3 weight rows (reference quantizers' bytes) / dot_q8_0, dot_q4_0: ggml_vec_dot_*_q8_0 of",
             "# each weight row with each activation row (weight-major), float bits"]
    for name, rows, cols, x in activation_cases():
        assert len(x) == rows * cols and cols % 32 == 0
        xq = b""
        for r in range(rows):
            row = x[r * cols:(r + 1) * cols]
            mine = act(cpus[0], row)
            for other in cpus[1:]:
                assert act(other, row) == mine, "CPU variants quantize %s row %d differently" % (name, r)
            xq += mine
        lines.append("case %s %d %d" % (name, rows, cols))
        lines.append("x " + bits(x))
        lines.append("xq " + xq.hex())
        rb = cols // 32 * 34
        for kind in ("q8_0", "q4_0"):
            w = [[f32(rnd.gauss(0, 0.05)) for _ in range(cols)] for _ in range(3)]
            wb = [weights(kind, row) for row in w]
            lines.append("w_%s %s" % (kind, b"".join(wb).hex()))
            lines.append("dot_%s %s" % (kind, bits([dot(kind, wr, xq[r * rb:(r + 1) * rb], cols) for wr in wb for r in range(rows)])))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
