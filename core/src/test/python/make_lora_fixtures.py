#!/usr/bin/env python3
"""LoRA adapters in PEFT's format, both ways, against PEFT's documented merge rule applied here by hand
(PEFT itself cannot be installed on this machine).

For GPT-2's Conv1D layers (fan_in_fan_out = True) PEFT merges an adapter as W += transpose(B @ A) * scaling, with
scaling = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora); A is [r, in], B is [out, r], and the file names are
base_model.model.transformer.h.{i}.<layer>.lora_A.weight / .lora_B.weight.

Run from the project root after make_fixtures.py (it uses the parity models) and `mvn -q -DskipTests package`:
    /usr/bin/python3 core/src/test/python/make_lora_fixtures.py

Writes under core/src/test/resources/parity/:
  lora-torch/  an adapter made here for the torch-separate model (targets c_attn and c_proj: PEFT's suffix match,
               so both projections), with expected.json: the merged model's logits on fixed tokens.
  lora-java/   an adapter written by gpt4j (WriteParityAdapter) for the java-tied model, read here, merged by the
               rule above, with expected.json.
"""
import json, math, os, subprocess
import torch
from make_fixtures import ROOT, OUT, read_safetensors, write_safetensors, gpt2_forward

PREFIX = "base_model.model.transformer."
LAYERS = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]


def targeted(layer, targets):
    return any(layer == t or layer.endswith("." + t) for t in targets)


def merged(W, cfg, adapter_cfg, lora):
    r, alpha = adapter_cfg["r"], adapter_cfg["lora_alpha"]
    scaling = alpha / math.sqrt(r) if adapter_cfg.get("use_rslora") else alpha / r
    out = dict(W)
    for l in range(cfg["n_layer"]):
        for layer in LAYERS:
            if not targeted(layer, adapter_cfg["target_modules"]):
                continue
            a = lora[f"{PREFIX}h.{l}.{layer}.lora_A.weight"]
            b = lora[f"{PREFIX}h.{l}.{layer}.lora_B.weight"]
            out[f"h.{l}.{layer}.weight"] = W[f"h.{l}.{layer}.weight"] + (b @ a).T * scaling
    return out


def expected(folder, cfg, W, seed):
    gen = torch.Generator().manual_seed(seed)
    B, T = 2, cfg["n_positions"]
    idx = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    targets = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    with torch.no_grad():
        logits, loss = gpt2_forward(W, cfg, idx, targets)
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"B": B, "T": T, "tokens": idx.flatten().tolist(), "targets": targets.flatten().tolist(),
                   "loss": loss.item(), "logits": [round(v, 7) for v in logits.flatten().tolist()]}, f)
    print(folder, "loss", loss.item())


def torch_adapter():
    base = os.path.join(OUT, "torch-separate")
    cfg = json.load(open(os.path.join(base, "config.json")))
    W = {k.removeprefix("transformer."): v for k, v in read_safetensors(os.path.join(base, "model.safetensors")).items()}
    folder = os.path.join(OUT, "lora-torch")
    os.makedirs(folder, exist_ok=True)
    acfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 16, "lora_dropout": 0.05,
            "target_modules": ["c_attn", "c_proj"], "fan_in_fan_out": True, "bias": "none", "use_rslora": False,
            "base_model_name_or_path": "torch-separate", "inference_mode": True, "modules_to_save": None}
    gen = torch.Generator().manual_seed(7)
    C = cfg["n_embd"]
    dims = {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C), "mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}
    lora = {}
    for l in range(cfg["n_layer"]):
        for layer in LAYERS:
            if not targeted(layer, acfg["target_modules"]):
                continue
            i, o = dims[layer]
            lora[f"{PREFIX}h.{l}.{layer}.lora_A.weight"] = torch.randn(acfg["r"], i, generator=gen) * 0.2
            lora[f"{PREFIX}h.{l}.{layer}.lora_B.weight"] = torch.randn(o, acfg["r"], generator=gen) * 0.2
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), lora)
    json.dump(acfg, open(os.path.join(folder, "adapter_config.json"), "w"), indent=2)
    expected(folder, cfg, merged(W, cfg, acfg, lora), 11)


def java_adapter():
    base = os.path.join(OUT, "java-tied")
    folder = os.path.join(OUT, "lora-java")
    with open(os.path.join(ROOT, "cli/target/classpath")) as f:
        deps = f.read().strip()
    cp = ":".join([os.path.join(ROOT, "core/target/classes"), os.path.join(ROOT, "core/target/test-classes"), deps])
    subprocess.run(["java", "-cp", cp, "dev.gpt4j.core.WriteParityAdapter", base, folder], check=True)
    cfg = json.load(open(os.path.join(base, "config.json")))
    W = read_safetensors(os.path.join(base, "model.safetensors"))
    acfg = json.load(open(os.path.join(folder, "adapter_config.json")))
    assert acfg["peft_type"] == "LORA" and acfg["fan_in_fan_out"] and acfg["use_rslora"], acfg
    lora = read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    expected(folder, cfg, merged(W, cfg, acfg, lora), 12)


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch_adapter()
    java_adapter()
    print("torch", torch.__version__)
