// llama.cpp (as prebuilt by node-llama-cpp, CPU only) on a GGUF file: tokenizes prompts, greedy-decodes them, and
// times prompt processing and generation. Prints one JSON object. Usage (from the project root):
//   (cd benchmarks/llamacpp && npm install --omit=optional)
//   node benchmarks/llamacpp/run.mjs MODEL.gguf PROMPTS.json [options]
// PROMPTS.json is an array; each item is a string, {"text": "..."} or {"ids": [..]} (token ids, not tokenized again).
// Options:
//   --new N          new tokens per prompt (default 32); greedy: temperature 0 = llama.cpp's arg-max sampler,
//                    no penalties, no grammar, no token predictor
//   --stop-at-eos    stop a continuation at an end-of-generation token (default: always N tokens)
//   --bos            prepend the model's BOS token to tokenized prompts (default: none, as GPT-2)
//   --no-special     tokenize special-token text (e.g. <|endoftext|>) as plain text (default: as the special token)
//   --threads T      threads (default 2)
//   --kv f16|f32     KV-cache type (default f16, llama.cpp's default; f32 for exact comparisons)
//   --pp 64,256      prompt lengths to time (default 64,256; lengths past the model's context are skipped)
//   --tg 128         generated tokens to time, batch 1 (default 128; 0 skips)
//   --repeat R       timed runs of each (default 3; the median is reported, after one warm-up run)
//   --no-timings     skip the timings
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

function parseArgs(argv) {
  const o = { newTokens: 32, stopAtEos: false, bos: false, special: true, threads: 2, kv: "F16",
              pp: [64, 256], tg: 128, repeat: 3, timings: true, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = (s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: '${s}' is not a non-negative integer`);
      return n;
    };
    if (a === "--new") o.newTokens = int(next());
    else if (a === "--stop-at-eos") o.stopAtEos = true;
    else if (a === "--bos") o.bos = true;
    else if (a === "--no-special") o.special = false;
    else if (a === "--threads") o.threads = int(next());
    else if (a === "--kv") o.kv = next().toUpperCase();
    else if (a === "--pp") o.pp = next().split(",").filter((s) => s !== "").map(int);
    else if (a === "--tg") o.tg = int(next());
    else if (a === "--repeat") o.repeat = Math.max(1, int(next()));
    else if (a === "--no-timings") o.timings = false;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length !== 2) throw new Error("usage: run.mjs MODEL.gguf PROMPTS.json [options]");
  if (!["F16", "F32"].includes(o.kv)) throw new Error(`--kv must be f16 or f32, not ${o.kv}`);
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const [modelPath, promptsPath] = opt.files;
  const prompts = JSON.parse(readFileSync(promptsPath, "utf8"));
  if (!Array.isArray(prompts)) throw new Error(`${promptsPath}: expected a JSON array of prompts`);

  // CPU only, never build or download: the prebuilt @node-llama-cpp/linux-x64 binaries are used as installed.
  // maxThreads 0: the context's thread count is used as given, not capped by a pool.
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 0 });
  const model = await llama.loadModel({ modelPath });
  const trainCtx = model.trainContextSize;
  const longestPrompt = Math.max(1, ...opt.pp.filter((n) => n <= trainCtx));
  const context = await model.createContext({
    contextSize: trainCtx,               // GPT-2 cannot go past its position table
    batchSize: Math.min(trainCtx, Math.max(512, longestPrompt)),
    threads: opt.threads,
    sequences: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: opt.kv,
    experimentalKvCacheValueType: opt.kv,
  });
  const sequence = context.getSequence();

  const tokenize = (text) => {
    const ids = Array.from(model.tokenize(text, opt.special));
    return opt.bos && model.tokens.bos != null ? [model.tokens.bos, ...ids] : ids;
  };

  // Greedy continuation of `ids`, `n` new tokens, on a cleared sequence. evaluate() feeds the prompt in one batch,
  // then each sampled token back in; with temperature 0 node-llama-cpp's sampler chain is llama.cpp's greedy
  // (arg-max) sampler alone, as no penalty, bias, grammar or predictor is given.
  const greedy = async (ids, n) => {
    await sequence.clearHistory();
    const out = [];
    if (n === 0 || ids.length === 0) return out;
    if (ids.length + n > trainCtx) throw new Error(`prompt (${ids.length}) + ${n} new tokens exceed the context of ${trainCtx}`);
    for await (const token of sequence.evaluate(ids, { temperature: 0, yieldEogToken: !opt.stopAtEos })) {
      out.push(token);
      if (out.length >= n) break;
    }
    return out;
  };

  const results = [];
  for (const p of prompts) {
    const item = typeof p === "string" ? { text: p } : p;
    const ids = item.ids ?? tokenize(item.text);
    const continuation = await greedy(ids, opt.newTokens);
    results.push({
      ...(item.text != null ? { text: item.text } : {}),
      ids,
      continuation,
      continuation_text: model.detokenize(continuation, true),
    });
  }

  let timings;
  if (opt.timings) {
    // timing prompts: ordinary text, tokenized by the model and repeated to the length wanted
    const unit = Array.from(model.tokenize("The quick brown fox jumps over the lazy dog. SELECT name FROM singer WHERE age > 20;\n", false));
    const fakePrompt = (n) => Array.from({ length: n }, (_, i) => unit[i % unit.length]);
    const pp = [];
    for (const n of opt.pp) {
      if (n > trainCtx) {
        pp.push({ tokens: n, skipped: `longer than the model's context (${trainCtx})` });
        continue;
      }
      const runs = [];
      for (let r = 0; r <= opt.repeat; r++) {
        await sequence.clearHistory();
        const t0 = performance.now();
        await sequence.evaluateWithoutGeneratingNewTokens(fakePrompt(n));
        const s = (performance.now() - t0) / 1000;
        if (r > 0) runs.push(n / s); // run 0 warms up
      }
      pp.push({ tokens: n, tokens_per_s: +median(runs).toFixed(1), runs: runs.map((x) => +x.toFixed(1)) });
    }
    let tg;
    if (opt.tg > 0) {
      const n = Math.min(opt.tg, trainCtx - 1);
      const runs = [];
      for (let r = 0; r <= opt.repeat; r++) {
        await sequence.clearHistory();
        let count = 0, t0 = 0;
        // the first yielded token comes from the 1-token prompt; time the n tokens after it, each a batch of 1
        for await (const _ of sequence.evaluate([fakePrompt(1)[0]], { temperature: 0, yieldEogToken: true })) {
          if (count === 0) t0 = performance.now();
          if (++count > n) break;
        }
        const s = (performance.now() - t0) / 1000;
        if (r > 0) runs.push(n / s);
      }
      tg = { tokens: n, tokens_per_s: +median(runs).toFixed(1), runs: runs.map((x) => +x.toFixed(1)) };
    }
    timings = { threads: opt.threads, kv_cache: opt.kv, prompt_processing: pp, generation: tg };
  }

  // indented, but arrays of numbers on one line each
  const json = JSON.stringify({
    model: modelPath,
    llama_cpp: llama.llamaCppRelease,
    vocabulary: model.vocabularyType,
    train_context: trainCtx,
    new_tokens: opt.newTokens,
    kv_cache: opt.kv,
    prompts: results,
    ...(timings ? { timings } : {}),
  }, null, 1);
  console.log(json.replace(/\[\s*(-?[\d.]+(?:,\s*-?[\d.]+)*)\s*\]/g, (_, xs) => `[${xs.split(/,\s*/).join(",")}]`));
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  console.error(`run.mjs: ${e.message}`);
  process.exit(1);
});
