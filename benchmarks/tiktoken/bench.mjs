// Encode throughput of npm tiktoken (gpt2 encoding, all special tokens allowed) on one thread, on the same
// texts as dev.gpt4j.benchmarks.TokenizerBenchmark. Usage (from the project root):
//   (cd benchmarks/tiktoken && npm install) && node benchmarks/tiktoken/bench.mjs [../shared/data]
import { readFileSync } from "node:fs";
import { get_encoding } from "tiktoken";

const data = process.argv[2] ?? "../shared/data";
const spider = JSON.parse(readFileSync(`${data}/spider/train_spider.json`, "utf8"));
const texts = {
  "verdict": readFileSync(`${data}/text/the-verdict.txt`, "utf8"),
  "spider-questions": spider.map((e) => e.question + "\n").join(""),
  "spider-sql": spider.map((e) => e.query + "\n").join(""),
};
const enc = get_encoding("gpt2");
for (const [name, text] of Object.entries(texts)) {
  const bytes = Buffer.byteLength(text, "utf8");
  const run = (seconds) => {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    while (performance.now() < end) { enc.encode(text, "all"); n++; }
    return (n * bytes) / ((performance.now() - t0) / 1000) / 1e6;
  };
  run(3); // warm-up
  const rates = [1, 2, 3, 4, 5].map(() => run(2));
  const mean = rates.reduce((a, b) => a + b) / rates.length;
  console.log(JSON.stringify({ text: name, bytes, mb_per_s: +mean.toFixed(2), runs: rates.map((r) => +r.toFixed(2)) }));
}
enc.free();
