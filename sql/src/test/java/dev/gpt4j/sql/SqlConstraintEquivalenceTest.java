package dev.gpt4j.sql;

import dev.gpt4j.data.Schema;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.SqlText;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.data.WikiSqlTable;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The constraint's states answer exactly as the reference: for a token sequence and a candidate, a state's
 * {@code allows} and {@code prefer} against {@link SqlConstraint#referenceAllows} and
 * {@link SqlConstraint#referencePrefer}, which decode the whole sequence and read it from the start for every
 * candidate, as the constraint did before it kept state. With the shipped tokenizer, in each mode of
 * {@link SqlRules}: every Spider and WikiSQL dev gold query token by token (each step against the gold's next
 * token, the end, the tokens that split the rest of the gold otherwise and random ones), the whole vocabulary at
 * every step of some of them, and random walks among allowed tokens (which go where no gold query goes: strings of
 * stray bytes, characters split between tokens, names cut anywhere).
 */
class SqlConstraintEquivalenceTest {
    static BpeTokenizer tok;
    static int V, end;
    static List<Case> spider, wiki;
    /** Each ordinary token's text (decoded alone), to find the tokens that start a given text. */
    static Map<String, Integer> idOfText;
    static int longestToken;

    /** A schema, a question and a gold query. */
    record Case(Schema schema, String question, String sql) {}

    /** The modes: the rules the constraint is built with. */
    static final Map<String, SqlRules> MODES = new LinkedHashMap<>();

    static {
        MODES.put("plain", SqlRules.CONSTRAINED);
        MODES.put("values from the question", SqlRules.CONSTRAINED.withValuesFromQuestion(true));
        MODES.put("one condition per column", SqlRules.CONSTRAINED.withOneConditionPerColumn(true));
        MODES.put("linked tables", SqlRules.CONSTRAINED.withLinkTables(true));
        MODES.put("all three", new SqlRules(true, true, true, true));
    }

    @BeforeAll
    static void load() {
        tok = BpeTokenizer.load(Path.of("..", "models", "gpt4j-sql")); // tests run in the module's folder
        V = tok.vocabSize();
        end = tok.specialTokenId(BpeTokenizer.END_OF_TEXT);
        idOfText = new HashMap<>();
        for (int v = 0; v < V; v++) {
            if (tok.specialTokens().containsValue(v)) continue;
            byte[] b = tok.decodeBytes(v);
            String t = new String(b, StandardCharsets.UTF_8);
            if (Arrays.equals(b, t.getBytes(StandardCharsets.UTF_8))) {
                idOfText.put(t, v);
                longestToken = Math.max(longestToken, t.length());
            }
        }
        Spider s = Spider.open(Fixtures.dataDir().resolve("spider"));
        spider = new ArrayList<>();
        for (SpiderExample e : s.examples("dev")) spider.add(new Case(s.schema(e.dbId()), e.question(), e.query()));
        WikiSql w = WikiSql.open(Fixtures.dataDir().resolve("wikisql"));
        Map<String, WikiSqlTable> tables = w.tables("dev");
        wiki = new ArrayList<>();
        for (WikiSqlExample e : w.examples("dev").examples()) {
            WikiSqlTable t = tables.get(e.tableId());
            wiki.add(new Case(t.schema(), e.question(), e.sql().toSql(t)));
        }
    }

    /** The gold query's tokens, as fine-tuning encodes them. */
    static int[] goldTokens(Case c) {
        return tok.encode(SqlText.normalizeSpace(c.sql()), SpecialTokens.PLAIN_TEXT);
    }

    /** One constraint for a chunk of cases (sequence i is case i), as {@link TextToSql} builds one for a batch. */
    static SqlConstraint constraint(List<Case> cases, SqlRules rules) {
        return new SqlConstraint(tok, cases.stream().map(Case::schema).toList(), cases.stream().map(Case::question).toList(), rules);
    }

    /** What the comparisons did, and the first differences. */
    static final class Tally {
        long steps, checks, allowed;
        final List<String> diffs = new ArrayList<>();

        void diff(String what) {
            if (diffs.size() < 20) diffs.add(what);
        }

        void check(String label) {
            System.out.printf("%s: %,d steps, %,d candidates compared (%,d allowed)%n", label, steps, checks, allowed);
            assertTrue(steps > 0 && allowed > 0 && allowed < checks, "the comparison must see allowed and refused tokens");
            assertEquals(List.of(), diffs, label);
        }
    }

    /** Whether sequence {@code seq}'s state after {@code ids[0..k)} and the reference agree on token {@code v}. */
    static boolean compare(SqlConstraint c, int seq, TokenConstraint.State s, int[] ids, int k, int v, Tally t) {
        t.checks++;
        boolean a = s.allows(v), b = c.referenceAllows(seq, ids, k, v);
        if (a != b) t.diff("after " + show(ids, k) + ", token " + v + " " + show(new int[] {v}, 1) + ": state " + a + ", reference " + b);
        if (b) t.allowed++;
        return b;
    }

    /** Whether they add the same preferences (with linked tables; none otherwise). */
    static void comparePreference(SqlConstraint c, int seq, TokenConstraint.State s, int[] ids, int k, Tally t) {
        float[] x = new float[V], y = new float[V];
        s.prefer(x);
        c.referencePrefer(seq, ids, k, y);
        if (!Arrays.equals(x, y)) t.diff("prefer after " + show(ids, k) + " differs");
    }

    static String show(int[] ids, int k) {
        return "'" + tok.decode(Arrays.copyOf(ids, k)).replace("\n", "\\n") + "'";
    }

    /**
     * Walks {@code ids} token by token, comparing at each step (after 0 .. all tokens) the candidates
     * {@code candidates} picks, and the preference.
     */
    static void walk(SqlConstraint c, int seq, int[] ids, Candidates candidates, Tally t) {
        TokenConstraint.State s = c.start(seq);
        for (int k = 0; k <= ids.length; k++) {
            t.steps++;
            for (int v : candidates.at(ids, k)) compare(c, seq, s, ids, k, v, t);
            comparePreference(c, seq, s, ids, k, t);
            if (k < ids.length) s = s.next(ids[k]);
        }
    }

    interface Candidates {
        int[] at(int[] ids, int k);
    }

    /**
     * Along a gold query: its next token, the end, every token that starts the rest of the gold text (the gold split
     * otherwise: "na" where it has "name"), a special token, and {@code random} tokens drawn with a seed.
     */
    static Candidates alongTheGold(long seed, int random) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return (ids, k) -> {
            List<Integer> out = new ArrayList<>(List.of(end, tok.specialTokenId("<|sql|>")));
            if (k < ids.length) {
                out.add(ids[k]);
                String rest = tok.decode(Arrays.copyOfRange(ids, k, ids.length));
                for (int n = 1; n <= Math.min(rest.length(), longestToken); n++) {
                    Integer v = idOfText.get(rest.substring(0, n));
                    if (v != null) out.add(v);
                }
            }
            for (int r = 0; r < random; r++) out.add(rnd.nextInt(V));
            return out.stream().mapToInt(Integer::intValue).toArray();
        };
    }

    static final int[] ALL = java.util.stream.IntStream.range(0, 1 << 16).toArray();

    static Candidates everyToken() {
        return (ids, k) -> Arrays.copyOf(ALL, V);
    }

    /**
     * Every Spider dev gold query in each mode, and every third WikiSQL dev gold query (2,807; SqlConstraintGoldTest
     * feeds all of them) in the plain mode and with all three rules.
     */
    @Test
    void goldQueriesTokenByToken() {
        for (Map.Entry<String, SqlRules> mode : MODES.entrySet()) {
            Tally t = new Tally();
            goldWalks(spider, mode.getValue(), 8, t);
            t.check("Spider dev, " + mode.getKey());
        }
        List<Case> third = new ArrayList<>();
        for (int i = 0; i < wiki.size(); i += 3) third.add(wiki.get(i));
        for (String mode : List.of("plain", "all three")) {
            Tally t = new Tally();
            goldWalks(third, MODES.get(mode), 4, t);
            t.check("WikiSQL dev (every third), " + mode);
        }
    }

    private static void goldWalks(List<Case> cases, SqlRules rules, int random, Tally t) {
        for (int from = 0; from < cases.size(); from += 256) {
            List<Case> chunk = cases.subList(from, Math.min(cases.size(), from + 256));
            SqlConstraint c = constraint(chunk, rules);
            for (int i = 0; i < chunk.size(); i++) walk(c, i, goldTokens(chunk.get(i)), alongTheGold(from + i, random), t);
        }
    }

    /**
     * The whole vocabulary at every step of some gold queries, in each mode: Spider's every 250th, WikiSQL's every
     * 4000th and its first two whose gold has non-ASCII text (its characters split between tokens).
     */
    @Test
    void theWholeVocabularyAlongSomeGoldQueries() {
        List<Case> some = new ArrayList<>();
        for (int i = 0; i < spider.size(); i += 250) some.add(spider.get(i));
        for (int i = 0; i < wiki.size(); i += 4000) some.add(wiki.get(i));
        wiki.stream().filter(k -> !k.sql().chars().allMatch(ch -> ch < 128)).limit(2).forEach(some::add);
        for (Map.Entry<String, SqlRules> mode : MODES.entrySet()) {
            Tally t = new Tally();
            SqlConstraint c = constraint(some, mode.getValue());
            for (int i = 0; i < some.size(); i++) walk(c, i, goldTokens(some.get(i)), everyToken(), t);
            t.check("the whole vocabulary, " + mode.getKey());
        }
    }

    /**
     * Random walks among the tokens the state allows, seeded, over Spider dev schemas, in each mode: at each step
     * every token the state allows and as many refused ones (all if fewer), compared with the reference, and the
     * next token drawn among the allowed ones (the end token ends the walk).
     */
    @Test
    void randomWalksAmongAllowedTokens() {
        SplittableRandom rnd = new SplittableRandom(26);
        for (Map.Entry<String, SqlRules> mode : MODES.entrySet()) {
            Tally t = new Tally();
            List<Case> cases = new ArrayList<>();
            for (int w = 0; w < 30; w++) cases.add(spider.get(rnd.nextInt(spider.size())));
            SqlConstraint c = constraint(cases, mode.getValue());
            for (int w = 0; w < cases.size(); w++) {
                int[] ids = new int[40];
                TokenConstraint.State s = c.start(w);
                for (int k = 0; k < ids.length; k++) {
                    t.steps++;
                    comparePreference(c, w, s, ids, k, t);
                    List<Integer> allowed = new ArrayList<>(), refused = new ArrayList<>();
                    for (int v = 0; v < V; v++) (s.allows(v) ? allowed : refused).add(v);
                    // the state's allowed tokens (up to 300 of them) and as many refused ones, drawn at random
                    for (List<Integer> some : List.of(allowed, refused)) {
                        int n = Math.min(some.size(), Math.max(32, Math.min(300, allowed.size())));
                        for (int j = 0; j < n; j++) {
                            int pick = j + rnd.nextInt(some.size() - j);
                            int v = some.get(pick);
                            some.set(pick, some.get(j));
                            some.set(j, v);
                            compare(c, w, s, ids, k, v, t);
                        }
                    }
                    if (allowed.isEmpty()) break;
                    int next = allowed.get(rnd.nextInt(allowed.size()));
                    if (next == end) break;
                    ids[k] = next;
                    s = s.next(next);
                }
            }
            t.check("random walks, " + mode.getKey());
        }
    }

    /** A token that ends inside a UTF-8 character: the state sees what decoding the whole sequence gives, U+FFFD included. */
    @Test
    void charactersSplitBetweenTokens() {
        Schema schema = dev.gpt4j.data.DdlSchemas.parse("CREATE TABLE city (name TEXT, \"Nom de la ville\" TEXT);", "t", "t");
        String question = "Which city is named Zürich or 東京?";
        for (SqlRules rules : List.of(SqlRules.CONSTRAINED, SqlRules.CONSTRAINED.withValuesFromQuestion(true))) {
            SqlConstraint c = new SqlConstraint(tok, List.of(schema), List.of(question), rules);
            Tally t = new Tally();
            int splits = 0;
            for (String sql : List.of("SELECT name FROM city WHERE name = 'Zürich'", "SELECT name FROM city WHERE name = '東京'",
                    "SELECT name FROM city WHERE \"Nom de la ville\" = '東")) {
                int[] ids = tok.encode(sql, SpecialTokens.PLAIN_TEXT);
                splits += (int) Arrays.stream(ids).filter(v -> !isWhole(v)).count();
                walk(c, 0, ids, everyToken(), t);
            }
            assertTrue(splits > 0, "the test needs tokens that split a character");
            t.check("split characters, " + rules);
        }
    }

    private static boolean isWhole(int v) {
        byte[] b = tok.decodeBytes(v);
        return Arrays.equals(b, new String(b, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
    }

    /** {@link SqlConstraint#completeChars}: the bytes before a character still open, whatever the byte classes. */
    @Test
    void completeCharactersOfABytePrefix() {
        byte[][] cases = {{}, {0x41}, {(byte) 0xC3}, {0x41, (byte) 0xC3}, {(byte) 0xC3, (byte) 0xBC}, {(byte) 0xE6, (byte) 0x9D},
                {(byte) 0xE6, (byte) 0x9D, (byte) 0xB1}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0x80}, {(byte) 0xBC, (byte) 0xBC}};
        int[] want = {0, 1, 0, 1, 2, 0, 3, 0, 1, 2};
        for (int i = 0; i < cases.length; i++) assertEquals(want[i], SqlConstraint.completeChars(cases[i]), "case " + i);
    }
}
