package dev.gpt4j.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GPT-2's byte-level BPE tokenizer: text to token ids and back, exactly as OpenAI's GPT-2 (and tiktoken's
 * {@code gpt2} encoding) does it, plus any vocabulary in the same format ({@code vocab.json} + {@code merges.txt},
 * the pair Hugging Face reads and writes). Instances are immutable and safe to share between threads.
 *
 * <pre>{@code
 * var tok = BpeTokenizer.load(Path.of("../shared/data/gpt2"));
 * int[] ids = tok.encode("SELECT name FROM singer");   // [46506, 1438, 16034, 14015]
 * tok.decode(ids);                                      // "SELECT name FROM singer"
 * }</pre>
 *
 * Special tokens (such as {@code <|endoftext|>}) are matched in the text before pre-tokenization and are never
 * split; {@link SpecialTokens} says whether their text in the input is allowed, refused or treated as plain text.
 */
public final class BpeTokenizer {
    /** GPT-2's end-of-text token. */
    public static final String END_OF_TEXT = "<|endoftext|>";

    private static final int CACHE_LIMIT = 100_000;
    /** Pieces up to this many bytes use the simple quadratic merge loop; longer ones a heap. */
    private static final int SHORT_PIECE = 64;

    private final String[] tokens;          // id -> token string as written in vocab.json
    private final byte[][] tokenBytes;      // id -> the bytes it decodes to
    private final Map<String, Integer> ids; // token string -> id
    private final int[] byteToId = new int[256];
    private final int[][] merges;           // rank -> {left id, right id}
    private final MergeTable mergeTable;
    private final Map<String, Integer> specials; // special-token text -> id, in id order
    private final String[] specialTexts;    // longest first, so that the longer of two tokens at one place wins
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeTokenizer(String[] tokens, int[][] merges, Map<String, Integer> specials) {
        this.tokens = tokens;
        this.merges = merges;
        this.specials = Collections.unmodifiableMap(new LinkedHashMap<>(specials));
        this.ids = new HashMap<>(tokens.length * 2);
        this.tokenBytes = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            if (ids.put(tokens[id], id) != null) throw new IllegalArgumentException("token " + quote(tokens[id]) + " appears twice");
            tokenBytes[id] = specials.containsKey(tokens[id])
                    ? tokens[id].getBytes(StandardCharsets.UTF_8)
                    : ByteLevel.fromTokenString(tokens[id]);
        }
        for (int b = 0; b < 256; b++) byteToId[b] = ids.get(String.valueOf(ByteLevel.charOf(b)));
        this.mergeTable = new MergeTable(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            int l = merges[rank][0], r = merges[rank][1];
            mergeTable.put(l, r, rank, ids.get(tokens[l] + tokens[r]));
        }
        this.specialTexts = specials.keySet().stream()
                .sorted((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b))
                .toArray(String[]::new);
    }

    /**
     * Builds a tokenizer from its parts. {@code tokens[id]} is each token's string in GPT-2's byte-level
     * alphabet; {@code merges[rank]} a pair of ids whose concatenation is a token; {@code specialTokens} the
     * texts of the special tokens, each of which must also be in {@code tokens}.
     */
    static BpeTokenizer of(String[] tokens, int[][] merges, List<String> specialTokens) {
        Map<String, Integer> byText = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) byText.put(tokens[i], i);
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (String s : specialTokens) specials.put(s, byText.get(s));
        return new BpeTokenizer(tokens, merges, specials);
    }

    /**
     * Builds a tokenizer from a vocabulary held in memory (for example read from a GGUF file's
     * {@code tokenizer.ggml.*} keys), checked as {@link #load(Path, Path)} checks files.
     *
     * @param tokens        every token's string by id: regular tokens in GPT-2's byte-level alphabet
     *                      ({@code "Ġthe"}), special tokens as their text ({@code "<|endoftext|>"}); all 256 byte tokens
     *                      must be there
     * @param merges        the merges in rank order (index 0 is applied first), each {@code "left right"} with one space,
     *                      where left, right and left+right are tokens
     * @param specialTokens the texts of the special tokens, each also in {@code tokens}
     * @throws IllegalArgumentException naming the token or merge at fault
     */
    public static BpeTokenizer fromParts(List<String> tokens, List<String> merges, Collection<String> specialTokens) {
        String[] toks = tokens.toArray(new String[0]);
        Map<String, Integer> byText = new HashMap<>(toks.length * 2);
        for (int id = 0; id < toks.length; id++) {
            if (toks[id] == null || toks[id].isEmpty()) throw new IllegalArgumentException("token " + id + " is empty");
            Integer other = byText.put(toks[id], id);
            if (other != null) throw new IllegalArgumentException("token " + quote(toks[id]) + " appears twice (ids " + other + " and " + id + ")");
        }
        for (int b = 0; b < 256; b++) {
            if (!byText.containsKey(String.valueOf(ByteLevel.charOf(b)))) {
                throw new IllegalArgumentException(String.format(
                        "no token for byte 0x%02X (expected the token \"%s\"): a byte-level vocabulary needs all 256", b, ByteLevel.charOf(b)));
            }
        }
        List<String> specials = new ArrayList<>();
        Set<String> specialSet = new HashSet<>();
        for (String s : specialTokens) {
            if (!byText.containsKey(s)) throw new IllegalArgumentException("special token " + quote(s) + " is not in the vocabulary");
            if (s.length() == 1 && ByteLevel.byteOf(s.charAt(0)) >= 0) {
                throw new IllegalArgumentException("special token " + quote(s) + " is one of the 256 byte tokens");
            }
            if (specialSet.add(s)) specials.add(s);
        }
        for (int id = 0; id < toks.length; id++) {
            if (!specialSet.contains(toks[id]) && ByteLevel.fromTokenString(toks[id]) == null) {
                throw new IllegalArgumentException("token " + id + " " + quote(toks[id])
                        + " is neither special nor written in GPT-2's byte-level alphabet");
            }
        }
        int[][] pairs = new int[merges.size()][];
        MergeTable seen = new MergeTable(merges.size());
        for (int rank = 0; rank < pairs.length; rank++) {
            String m = merges.get(rank);
            int sp = m.indexOf(' ');
            if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw new IllegalArgumentException("merge " + rank + " must be two tokens separated by one space, not " + quote(m));
            }
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            Integer ia = byText.get(a), ib = byText.get(b), im = byText.get(a + b);
            if (ia == null) throw new IllegalArgumentException("merge " + rank + " (" + quote(m) + ") has unknown token " + quote(a));
            if (ib == null) throw new IllegalArgumentException("merge " + rank + " (" + quote(m) + ") has unknown token " + quote(b));
            if (im == null) throw new IllegalArgumentException("merge " + rank + ": the merged token " + quote(a + b) + " is not in the vocabulary");
            if (specialSet.contains(a) || specialSet.contains(b)) {
                throw new IllegalArgumentException("merge " + rank + " (" + quote(m) + ") merges a special token");
            }
            if (!seen.put(ia, ib, rank, im)) throw new IllegalArgumentException("duplicate merge " + quote(m) + " (merge " + rank + ")");
            pairs[rank] = new int[] {ia, ib};
        }
        return of(toks, pairs, specials);
    }

    // ------------------------------------------------------------------------------------------ loading

    /** Loads {@code vocab.json} and {@code merges.txt} from a directory (e.g. GPT-2's or a model's). */
    public static BpeTokenizer load(Path dir) {
        return load(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    }

    /** Loads {@code vocab.json} and {@code merges.txt} from a directory given as a path string. */
    public static BpeTokenizer load(String dir) {
        return load(Path.of(dir));
    }

    /**
     * Loads a vocabulary and its merges. Tokens that are neither one of the 256 byte tokens nor the result of
     * a merge (GPT-2's {@code <|endoftext|>}) become special tokens.
     *
     * @throws TokenizerFileException naming the file and line of any fault
     * @throws UncheckedIOException if a file cannot be read
     */
    public static BpeTokenizer load(Path vocabFile, Path mergesFile) {
        String[] tokens = readVocab(vocabFile);
        Map<String, Integer> byText = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) byText.put(tokens[i], i);
        for (int b = 0; b < 256; b++) {
            if (!byText.containsKey(String.valueOf(ByteLevel.charOf(b)))) {
                throw new TokenizerFileException(vocabFile, 0, String.format(
                        "no token for byte 0x%02X (expected the token \"%s\"): a byte-level vocabulary needs all 256",
                        b, ByteLevel.charOf(b)));
            }
        }
        int[][] merges = readMerges(mergesFile, byText);
        boolean[] regular = new boolean[tokens.length];
        for (int b = 0; b < 256; b++) regular[byText.get(String.valueOf(ByteLevel.charOf(b)))] = true;
        for (int[] m : merges) regular[byText.get(tokens[m[0]] + tokens[m[1]])] = true;
        List<String> specials = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) if (!regular[id]) specials.add(tokens[id]);
        return of(tokens, merges, specials);
    }

    private static String[] readVocab(Path file) {
        JsonFactory factory = new JsonFactory();
        Map<String, Integer> byText = new HashMap<>();
        Map<Integer, String> byId = new HashMap<>();
        try (InputStream in = Files.newInputStream(file); JsonParser p = factory.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerFileException(file, line(p), "expected a JSON object {\"token\": id, ...}");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                int line = line(p);
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new TokenizerFileException(file, line, "the id of token " + quote(token)
                            + " must be an integer, not " + p.getText());
                }
                long id = p.getLongValue();
                if (id < 0 || id > Integer.MAX_VALUE - 8) {
                    throw new TokenizerFileException(file, line, "the id of token " + quote(token) + " is out of range: " + id);
                }
                if (token.isEmpty()) throw new TokenizerFileException(file, line, "empty token string (id " + id + ")");
                if (byText.put(token, (int) id) != null) {
                    throw new TokenizerFileException(file, line, "token " + quote(token) + " is listed twice");
                }
                String other = byId.put((int) id, token);
                if (other != null) {
                    throw new TokenizerFileException(file, line, "duplicate id " + id + ": given to " + quote(other)
                            + " and to " + quote(token));
                }
            }
            if (t != JsonToken.END_OBJECT) throw new TokenizerFileException(file, line(p), "expected a token string");
            if (p.nextToken() != null) throw new TokenizerFileException(file, line(p), "unexpected content after the object");
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new TokenizerFileException(file, line, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String[] tokens = new String[byId.size()];
        for (Map.Entry<Integer, String> e : byId.entrySet()) {
            if (e.getKey() >= tokens.length) {
                throw new TokenizerFileException(file, 0, "ids must run from 0 to " + (tokens.length - 1)
                        + " without gaps, but token " + quote(e.getValue()) + " has id " + e.getKey());
            }
            tokens[e.getKey()] = e.getValue();
        }
        return tokens;
    }

    private static int line(JsonParser p) {
        return p.currentLocation().getLineNr();
    }

    private static int[][] readMerges(Path file, Map<String, Integer> byText) {
        List<int[]> merges = new ArrayList<>();
        MergeTable seen = new MergeTable(byText.size());
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = r.readLine();
            if (line == null || !line.startsWith("#version")) {
                throw new TokenizerFileException(file, 1, "missing the version line (\"#version: 0.2\") at the top");
            }
            int lineNo = 1;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) continue;
                int sp = line.indexOf(' ');
                if (sp <= 0 || sp == line.length() - 1 || line.indexOf(' ', sp + 1) >= 0) {
                    throw new TokenizerFileException(file, lineNo,
                            "a merge is two tokens separated by one space, not " + quote(line));
                }
                String a = line.substring(0, sp), b = line.substring(sp + 1);
                Integer ia = byText.get(a), ib = byText.get(b), im = byText.get(a + b);
                if (ia == null) throw new TokenizerFileException(file, lineNo, "merge of unknown token " + quote(a));
                if (ib == null) throw new TokenizerFileException(file, lineNo, "merge of unknown token " + quote(b));
                if (im == null) {
                    throw new TokenizerFileException(file, lineNo, "the merged token " + quote(a + b)
                            + " is not in the vocabulary");
                }
                if (!seen.put(ia, ib, merges.size(), im)) {
                    throw new TokenizerFileException(file, lineNo, "duplicate merge " + quote(line));
                }
                merges.add(new int[] {ia, ib});
            }
        } catch (TokenizerFileException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return merges.toArray(new int[0][]);
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '"' || cp == '\\') sb.append('\\').appendCodePoint(cp);
            else if (cp < 0x20) sb.append(String.format("\\u%04x", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.append('"').toString();
    }

    // ------------------------------------------------------------------------------------------ saving

    /** Writes {@code vocab.json} and {@code merges.txt} into {@code dir} (created if needed), each atomically. */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.write(dir.resolve("vocab.json"), out -> {
                try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
                    g.writeStartObject();
                    for (int id = 0; id < tokens.length; id++) g.writeNumberField(tokens[id], id);
                    g.writeEndObject();
                }
            });
            AtomicFiles.write(dir.resolve("merges.txt"), out -> {
                Writer w = new BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8));
                w.write("#version: 0.2\n");
                for (int[] m : merges) w.write(tokens[m[0]] + " " + tokens[m[1]] + "\n");
                w.flush();
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------ special tokens

    /**
     * A tokenizer with these special tokens added (ids after the current last id; texts already special keep
     * their ids). For example the prompt markers of a text-to-SQL model.
     */
    public BpeTokenizer withSpecialTokens(String... texts) {
        List<String> all = new ArrayList<>(Arrays.asList(tokens));
        Map<String, Integer> sp = new LinkedHashMap<>(specials);
        for (String s : texts) {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("a special token needs non-empty text");
            if (sp.containsKey(s)) continue;
            if (ids.containsKey(s)) {
                throw new IllegalArgumentException("cannot make " + quote(s) + " special: it is already the regular token "
                        + ids.get(s));
            }
            sp.put(s, all.size());
            all.add(s);
        }
        return new BpeTokenizer(all.toArray(new String[0]), merges, sp);
    }

    /** The special tokens: text to id, in id order. */
    public Map<String, Integer> specialTokens() {
        return specials;
    }

    /** The id of a special token, e.g. {@code specialTokenId("<|endoftext|>")} is 50256 for GPT-2. */
    public int specialTokenId(String text) {
        Integer id = specials.get(text);
        if (id == null) throw new IllegalArgumentException("no special token " + quote(text) + "; have " + specials.keySet());
        return id;
    }

    // ------------------------------------------------------------------------------------------ encoding

    /** Encodes text, with special-token text encoded as the special token ({@link SpecialTokens#ALLOW}). */
    public int[] encode(String text) {
        return encode(text, SpecialTokens.ALLOW);
    }

    /** Encodes text; {@code policy} says what to do with special-token text in it. */
    public int[] encode(String text, SpecialTokens policy) {
        IntArrayBuilder out = new IntArrayBuilder(text.length() / 3 + 4);
        if (policy == SpecialTokens.PLAIN_TEXT || specialTexts.length == 0) {
            encodeOrdinary(text, 0, text.length(), out);
            return out.toArray();
        }
        int[] next = new int[specialTexts.length];
        Arrays.fill(next, -2);
        int pos = 0;
        while (pos < text.length()) {
            int best = -1, bestAt = Integer.MAX_VALUE;
            for (int k = 0; k < specialTexts.length; k++) {
                if (next[k] != -1 && next[k] < pos) next[k] = text.indexOf(specialTexts[k], pos);
                if (next[k] >= 0 && next[k] < bestAt) { // longest first on ties: specialTexts is sorted so
                    bestAt = next[k];
                    best = k;
                }
            }
            if (best < 0) break;
            if (policy == SpecialTokens.REFUSE) {
                throw new IllegalArgumentException("the text contains the special token " + quote(specialTexts[best])
                        + " at index " + bestAt + "; encode it with SpecialTokens.ALLOW or PLAIN_TEXT");
            }
            encodeOrdinary(text, pos, bestAt, out);
            out.add(specials.get(specialTexts[best]));
            pos = bestAt + specialTexts[best].length();
        }
        encodeOrdinary(text, pos, text.length(), out);
        return out.toArray();
    }

    /** The token strings of an encoding, decoded to text one by one (handy for looking at a tokenization). */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (int id : encode(text)) out.add(new String(tokenBytes[id], StandardCharsets.UTF_8));
        return out;
    }

    private void encodeOrdinary(String text, int start, int end, IntArrayBuilder out) {
        if (start >= end) return;
        PreTokenizer.split(text, start, end, (s, e) -> {
            String piece = text.substring(s, e);
            int[] enc = cache.get(piece);
            if (enc == null) {
                enc = bpe(piece);
                if (cache.size() >= CACHE_LIMIT) cache.clear();
                cache.put(piece, enc);
            }
            out.addAll(enc);
        });
    }

    /** The byte tokens of the piece's UTF-8 encoding, then merges in rank order. */
    int[] bpe(String piece) {
        int[] syms = new int[piece.length() * 3 + 1];
        int n = 0;
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (c < 0x80) {
                syms[n++] = byteToId[c];
            } else if (c < 0x800) {
                syms[n++] = byteToId[0xC0 | (c >> 6)];
                syms[n++] = byteToId[0x80 | (c & 0x3F)];
            } else if (Character.isHighSurrogate(c) && i + 1 < piece.length()
                    && Character.isLowSurrogate(piece.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, piece.charAt(++i));
                syms[n++] = byteToId[0xF0 | (cp >> 18)];
                syms[n++] = byteToId[0x80 | ((cp >> 12) & 0x3F)];
                syms[n++] = byteToId[0x80 | ((cp >> 6) & 0x3F)];
                syms[n++] = byteToId[0x80 | (cp & 0x3F)];
            } else {
                if (Character.isSurrogate(c)) c = '\uFFFD'; // a lone surrogate is not Unicode text: encode U+FFFD
                syms[n++] = byteToId[0xE0 | (c >> 12)];
                syms[n++] = byteToId[0x80 | ((c >> 6) & 0x3F)];
                syms[n++] = byteToId[0x80 | (c & 0x3F)];
            }
        }
        n = n <= SHORT_PIECE ? mergeShort(syms, n) : mergeLong(syms, n);
        return Arrays.copyOf(syms, n);
    }

    /**
     * GPT-2's merge loop: find the lowest-ranked adjacent pair, merge every occurrence of it left to right,
     * repeat. Quadratic in the piece length, fastest for the short pieces that are nearly all of them.
     */
    int mergeShort(int[] syms, int n) {
        while (n > 1) {
            int bestRank = Integer.MAX_VALUE, bestPos = -1;
            for (int i = 0; i + 1 < n; i++) {
                int r = mergeTable.rank(syms[i], syms[i + 1]);
                if (r < bestRank) {
                    bestRank = r;
                    bestPos = i;
                }
            }
            if (bestPos < 0) break;
            int left = syms[bestPos], right = syms[bestPos + 1];
            int merged = mergeTable.merged(left, right);
            int w = bestPos;
            for (int i = bestPos; i < n; ) {
                if (i + 1 < n && syms[i] == left && syms[i + 1] == right) {
                    syms[w++] = merged;
                    i += 2;
                } else {
                    syms[w++] = syms[i++];
                }
            }
            n = w;
        }
        return n;
    }

    /**
     * The same merges for long pieces in O(n log n): a linked list of symbols and a heap of candidate pairs
     * ordered by (rank, position), so that equal-rank pairs merge left to right as in {@link #mergeShort}.
     */
    int mergeLong(int[] syms, int n) {
        int[] next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int i = 0; i + 1 < n; i++) {
            int r = mergeTable.rank(syms[i], syms[i + 1]);
            if (r != Integer.MAX_VALUE) heap.add(new long[] {r, i});
        }
        boolean[] dead = new boolean[n];
        while (!heap.isEmpty()) {
            long[] top = heap.poll();
            int i = (int) top[1];
            if (dead[i] || next[i] < 0) continue;
            int j = next[i];
            if (mergeTable.rank(syms[i], syms[j]) != top[0]) continue; // stale: a neighbour changed
            syms[i] = mergeTable.merged(syms[i], syms[j]);
            dead[j] = true;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            if (prev[i] >= 0) {
                int r = mergeTable.rank(syms[prev[i]], syms[i]);
                if (r != Integer.MAX_VALUE) heap.add(new long[] {r, prev[i]});
            }
            if (next[i] >= 0) {
                int r = mergeTable.rank(syms[i], syms[next[i]]);
                if (r != Integer.MAX_VALUE) heap.add(new long[] {r, i});
            }
        }
        int w = 0;
        for (int i = 0; i >= 0; i = next[i]) syms[w++] = syms[i];
        return w;
    }

    /**
     * Empties the cache of encoded words (it holds up to 100,000 and empties itself when full). Encoding is
     * the same with or without it; benchmarks use this to measure a cold cache.
     */
    public void clearCache() {
        cache.clear();
    }

    // ------------------------------------------------------------------------------------------ decoding

    /** Decodes ids to text; bytes that are not valid UTF-8 (a character cut between tokens) become U+FFFD. */
    public String decode(int... ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /** Decodes ids to the exact bytes they stand for. */
    public byte[] decodeBytes(int... ids) {
        int len = 0;
        for (int i = 0; i < ids.length; i++) len += bytesOf(ids[i], i).length;
        byte[] out = new byte[len];
        int pos = 0;
        for (int id : ids) {
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, out, pos, b.length);
            pos += b.length;
        }
        return out;
    }

    private byte[] bytesOf(int id, int position) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " at position " + position
                    + " is out of range: this vocabulary has ids 0 to " + (tokenBytes.length - 1));
        }
        return tokenBytes[id];
    }

    // ------------------------------------------------------------------------------------------ lookups

    /** Number of ids, special tokens included. */
    public int vocabSize() {
        return tokens.length;
    }

    /** Number of merges. */
    public int mergeCount() {
        return merges.length;
    }

    /** A token's string as written in {@code vocab.json} (byte-level alphabet, e.g. {@code "Ġthe"}). */
    public String tokenString(int id) {
        bytesOf(id, 0);
        return tokens[id];
    }

    /** The id of a token string as written in {@code vocab.json}, or -1 if there is none. */
    public int tokenId(String tokenString) {
        Integer id = ids.get(tokenString);
        return id == null ? -1 : id;
    }

    /** The merges in rank order, each as {left id, right id}. */
    public int[][] merges() {
        int[][] copy = new int[merges.length][];
        for (int i = 0; i < merges.length; i++) copy[i] = merges[i].clone();
        return copy;
    }

    @Override
    public String toString() {
        return "BpeTokenizer[vocab=" + tokens.length + ", merges=" + merges.length + ", special=" + specials + "]";
    }
}
