// Writes extra reference encodings made with npm tiktoken (gpt2, all special tokens allowed) for the cases
// the shared vectors leave in doubt: Unicode white space, numbers of other scripts, combining marks,
// uppercase contractions, long runs, and seeded random mixes. Output: one {"text","ids"} per line.
//   (cd benchmarks/tiktoken && npm install) && NODE_PATH=benchmarks/tiktoken/node_modules \
//     node tokenizer/tools/make-vectors.mjs > tokenizer/src/test/resources/tiktoken-extra-vectors.jsonl
import { get_encoding } from "tiktoken";

const crafted = [
  "a\u00a0b", "a\u3000b", "x\u2028y", "x\u0085y", "\u2003\u2003word", " \u00a0 x", "\t\t word", "  \tword",
  "\r\n\r\n  SELECT", "end   ", "   ", "\n", "", "'S 'T 'RE 'LL", "I'M", "don't'll've", "''s", " 's", "x''",
  "٣٤٥ and ४५६", "Ⅻ chapters", "½ cup", "e\u0301t\u00e9", "n\u0303", "a\u200db", "\ufeffSELECT", "𝔘𝔫𝔦",
  "👨‍👩‍👧 family", "🇫🇷🇩🇪", "한국어 텍스트", "カタカナ", "漢字とかな", "Ελληνικά", "עברית", "العربية ١٢٣",
  "a".repeat(500), " ".repeat(300) + "x", "=".repeat(200), "1234567890".repeat(20), "ab".repeat(150),
  "<|endoftext|><|endoftext|>", "<|endoftext", "endoftext|>", "a<|endoftext|> b", "\u0000\u0001\u001f",
  "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id WHERE T2.year >= 2014",
  "What is the name of the 'Ritz' hotel's owner?", "\"quoted\" and 'single'",
];
// A small seeded generator (mulberry32) so that the file is the same every time.
let seed = 20261121;
const rnd = () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pieces = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "'", "'s", "'ll", "'RE", "'ve",
  "<|endoftext|>", "SELECT", " FROM", "\"name\"", "a", "é", "e\u0301", "漢", "😀", "👍🏽", "0", "42", "3.14", "Ⅻ",
  "½", "٣", "!", "?!", ";", "--", "=", "<>", "(", ")", ",", ".", "\u200d", "ʼ", "’"];
const random = [];
for (let i = 0; i < 300; i++) {
  let s = "";
  const parts = 1 + Math.floor(rnd() * 25);
  for (let p = 0; p < parts; p++) {
    const k = rnd();
    if (k < 0.6) s += pieces[Math.floor(rnd() * pieces.length)];
    else if (k < 0.8) s += String.fromCharCode(0x20 + Math.floor(rnd() * 0x5f));
    else {
      let cp;
      do { cp = rnd() < 0.1 ? 0x10000 + Math.floor(rnd() * 0x10000) : Math.floor(rnd() * 0xd000); }
      while (!/\P{Cn}/u.test(String.fromCodePoint(cp)) || (cp >= 0xd800 && cp < 0xe000));
      s += String.fromCodePoint(cp);
    }
  }
  random.push(s);
}
const enc = get_encoding("gpt2");
for (const text of [...crafted, ...random]) {
  process.stdout.write(JSON.stringify({ text, ids: Array.from(enc.encode(text, "all")) }) + "\n");
}
enc.free();
