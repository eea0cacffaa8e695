package dev.gpt4j.sql;

import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlCheck;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Schema-constrained SQL decoding: a token may come next only if the SQL so far, with it, can still become a
 * query over the schema. Checked on the text: every complete name outside string literals must be a SQL
 * keyword or function, a table or column of the schema, or an alias ({@code T1}-style, or a name given after
 * {@code AS}, from there on); a name still being written must be the start of one; quoted names ({@code "a b"}, {@code `x`},
 * {@code [x]}) likewise; parentheses never close more than they opened. The end-of-text token is allowed only
 * when the whole SQL passes {@link SqlGuard} (one read-only statement that parses). Other special tokens are
 * never allowed.
 *
 * <p>Positions are checked too: after FROM or JOIN only a table (or a sub-query), after {@code T1.} or
 * {@code table.} only a column, after a function "(", after a {@code T1}-style alias "." (unless it is being
 * defined). To end, the query must read a table, every alias used must be defined, a qualified column must
 * belong to its table (or to the table its alias stands for) and a table's own name may qualify only when the
 * query reads that table after FROM or JOIN, and a bare column must belong to one of the tables the query reads.
 * Two checks come early, where a small model would otherwise write a query that can never end: the first
 * table after FROM must have one of the SELECT list's bare columns (unless the list qualifies a column), and an
 * alias may not name a table that lacks a column the same SELECT already qualified with it. A table's alias is
 * T-style ({@code T1}, {@code T2}, ..., in order), the fine-tuning data's only style; a column's alias is free.
 * Keywords stand only where SQLite takes them: after a table of FROM or JOIN only its alias, AS, a join or a
 * clause; a type name only in CAST's AS, a collation only after COLLATE, WHEN, THEN, ELSE and END only in a CASE; BY
 * after ORDER and GROUP, JOIN after LEFT, RIGHT, INNER, CROSS; "(" after EXISTS and IN; no reserved word as a bare
 * name; no aggregate in FROM, WHERE or GROUP BY; functions with as many arguments as SQLite takes; no white space
 * but SQL's. Last, the end comes only when every name resolves on the tree the guard's parser makes of the whole query, SELECT
 * by SELECT, as SQLite resolves them ({@link QueryNames}): so a query that ends, or an answer cut back to its last
 * complete prefix, names only the schema's tables and columns in scope. This cuts out invented names, columns of
 * the wrong table and unbalanced SQL; it does not check types.
 *
 * <p>The pieces: {@link SqlScanner} reads the text, {@link SchemaNames} is what a schema lets it name,
 * {@link TableLinking} the preference for the tables a question names. Each sequence's {@link State} keeps a
 * scanner at the start of the text's last lexeme (the one that may still go on) and the bytes of a character not
 * yet complete, so a candidate token costs the last lexeme and the candidate, not the whole text.
 * {@link #viable(String, SchemaNames)} and {@link #complete(String, SchemaNames)} read a whole text from the start:
 * the reference the states are tested against.
 */
public final class SqlConstraint implements TokenConstraint {
    /**
     * What {@code prefer} adds to the logit of a token that starts a table the question names: e^2, about 7
     * times the odds. Set before it was measured, not tuned on a dev set.
     */
    public static final float TABLE_BONUS = 2.0f;

    private final BpeTokenizer tokenizer;
    private final int endId;
    /** Per token id: a special token (never allowed, but the end-of-text token where the query may end). */
    private final boolean[] special;
    private final List<SchemaNames> names;
    /** Null without {@link SqlRules#linkTables()}. */
    private final TableLinking linking;
    /** Each token's bytes, and its text when it follows whole characters, looked up on first use. */
    private final byte[][] tokenBytes;
    private final String[] tokenText;

    /** Plain schema-constrained decoding over one schema, for every sequence. */
    public SqlConstraint(BpeTokenizer tokenizer, Schema schema) {
        this(tokenizer, List.of(schema), null, SqlRules.CONSTRAINED);
    }

    /**
     * One schema per sequence of a batch (sequence i uses {@code schemas.get(i)}; a single schema serves every
     * sequence), under {@code rules} (which must be {@link SqlRules#constrained()}). {@code questions}, one per
     * schema, may be null unless the rules read them ({@link SqlRules#valuesFromQuestion()},
     * {@link SqlRules#linkTables()}).
     */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas, List<String> questions, SqlRules rules) {
        if (!rules.constrained()) throw new IllegalArgumentException("a SqlConstraint needs constrained rules, not " + rules);
        boolean readsQuestions = rules.valuesFromQuestion() || rules.linkTables();
        if (questions == null ? readsQuestions : questions.size() != schemas.size()) {
            throw new IllegalArgumentException(schemas.size() + " schemas but " + (questions == null ? "no" : questions.size()) + " questions");
        }
        this.tokenizer = tokenizer;
        this.endId = tokenizer.specialTokenId(BpeTokenizer.END_OF_TEXT);
        this.special = new boolean[tokenizer.vocabSize()];
        for (int id : tokenizer.specialTokens().values()) special[id] = true;
        this.tokenBytes = new byte[tokenizer.vocabSize()][];
        this.tokenText = new String[tokenizer.vocabSize()];
        List<SchemaNames> n = new ArrayList<>(schemas.size());
        List<Set<String>> tables = new ArrayList<>(schemas.size());
        for (int i = 0; i < schemas.size(); i++) {
            SchemaNames base = SchemaNames.of(schemas.get(i), rules.valuesFromQuestion() ? questions.get(i) : null);
            n.add(rules.oneConditionPerColumn() ? base.withOneConditionPerColumn() : base);
            tables.add(base.tables());
        }
        this.names = List.copyOf(n);
        this.linking = rules.linkTables() ? new TableLinking(tokenizer, tables, questions) : null;
    }

    @Override
    public State start(int seq) {
        int i = names.size() == 1 ? 0 : seq;
        return new State(i, "", new byte[0], new SqlScanner(names.get(i)), 0, 0, false);
    }

    /**
     * Where one sequence stands: the text decoded so far up to its last complete character ({@code text}), the
     * bytes of a character that later tokens may still complete ({@code tail}: a token may end inside a UTF-8
     * character, and the text seen is then what {@link BpeTokenizer#decode} gives for the whole sequence, with
     * U+FFFD for those bytes), and a scanner that has read {@code text} up to {@code at}, the start of its last
     * lexeme. Everything before {@code at} reads the same whatever follows. {@code dead}: a lexeme before the last
     * one failed, so no continuation can pass. Immutable (the scanner is only ever copied).
     */
    private final class State implements TokenConstraint.State {
        private final int seq;
        private final String text;
        private final byte[] tail;
        private final SqlScanner scanner;
        private final int at;
        private final int count;
        private final boolean dead;

        State(int seq, String text, byte[] tail, SqlScanner scanner, int at, int count, boolean dead) {
            this.seq = seq;
            this.text = text;
            this.tail = tail;
            this.scanner = scanner;
            this.at = at;
            this.count = count;
            this.dead = dead;
        }

        @Override
        public boolean allows(int token) {
            if (token == endId) return count > 0 && !dead && tail.length == 0 && complete(); // not inside a character
            if (special[token] || dead) return false;
            byte[] b = tail.length == 0 ? bytes(token) : concat(tail, bytes(token));
            int whole = completeChars(b);
            if (whole == b.length) return scanner.copy().run(text.substring(at) + (tail.length == 0 ? text(token) : decode(b)), at);
            String head = text.substring(at) + new String(b, 0, whole, StandardCharsets.UTF_8);
            for (String c : completions(seq, Arrays.copyOfRange(b, whole, b.length))) {
                if (scanner.copy().run(head + c, at)) return true;
            }
            return false;
        }

        @Override
        public State next(int token) {
            if (dead) return this; // nothing can pass any more: the count no longer matters
            byte[] b = concat(tail, bytes(token));
            int complete = completeChars(b);
            String rest = text.substring(at) + new String(b, 0, complete, StandardCharsets.UTF_8);
            byte[] newTail = Arrays.copyOfRange(b, complete, b.length);
            SqlScanner s = scanner.copy();
            int i = 0;
            // read every lexeme but the last, which may still go on; the copy then stands at the last one's start
            while (i < rest.length()) {
                int end = s.lexemeEnd(rest, i);
                if (end == rest.length()) break;
                if (s.lexeme(rest, i, at) < 0) return new State(seq, text, tail, scanner, at, count + 1, true);
                i = end;
            }
            return new State(seq, text.substring(0, at) + rest, newTail, s, at + i, count + 1, false);
        }

        /** {@link TableLinking}'s bonus where the first table after a FROM comes next. */
        @Override
        public void prefer(float[] logits) {
            // no table comes next inside a character
            if (linking == null || linking.namesNone(seq) || count == 0 || dead || tail.length > 0) return;
            String end = text.substring(at);
            SqlScanner s = scanner.copy();
            // the space completes a FROM at the end; after JOIN, or after a FROM whose SELECT list qualifies a column
            // (a join announced), the named table is less often the one due
            if (!s.run(end + " ", at) || !s.expectTable() || !s.singleTableFrom()) return;
            String all = end.isEmpty() ? text : end;
            linking.addBonus(seq, s.tableChoices(), Character.isWhitespace(all.charAt(all.length() - 1)), logits);
        }

        /** Whether the text may end here ({@link SqlConstraint#complete(String, SchemaNames)}), reading only its last lexeme again. */
        private boolean complete() {
            String end = text.substring(at);
            String all = text;
            if (SqlScanner.endsInAKeywordThatNeedsMore(all)) return false;
            SqlScanner s = scanner.copy();
            return s.run(end + " ", at) && !s.openQuote() && s.consistent() && resolves(all, names.get(seq));
        }
    }

    private byte[] bytes(int token) {
        byte[] b = tokenBytes[token];
        if (b == null) tokenBytes[token] = b = tokenizer.decodeBytes(token);
        return b;
    }

    /**
     * The characters that may complete {@code open}, the first bytes of a UTF-8 character a token ended inside (a
     * byte-level vocabulary splits rare characters): those of sequence {@code seq}'s schema names and question
     * ({@link SchemaNames#characters()}) that start with these bytes, and the first valid character that does (any
     * character goes inside a string literal). A token that ends inside a character is allowed if one of them keeps
     * the text viable: the bytes alone are no character yet, so U+FFFD (what decoding them gives) would refuse
     * {@code "Å} in {@code SELECT "Ålesund"} when the vocabulary has no token for Å.
     */
    private List<String> completions(int seq, byte[] open) {
        List<String> out = new ArrayList<>(2);
        for (String c : names.get(seq).characters()) {
            byte[] cb = c.getBytes(StandardCharsets.UTF_8);
            if (cb.length > open.length && Arrays.equals(cb, 0, open.length, open, 0, open.length)) out.add(c);
        }
        String any = firstCharacter(open);
        if (any != null && !out.contains(any)) out.add(any);
        return out;
    }

    /** The first valid character whose UTF-8 bytes start with {@code open} (a lead byte and fewer continuations than it needs), or null. */
    static String firstCharacter(byte[] open) {
        int lead = open[0] & 0xff;
        int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        byte[] b = Arrays.copyOf(open, need);
        for (int k = open.length; k < need; k++) b[k] = (byte) 0x80;
        // only the second byte has a narrower range (after E0, ED, F0, F4); try each if it is still open
        for (int second = 0x80; second <= 0xBF; second++) {
            if (open.length < 2) b[1] = (byte) second;
            try {
                return java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                if (open.length >= 2) return null;
            }
        }
        return null;
    }

    /** The token's text after whole characters: what decoding the sequence adds for it there. */
    private String text(int token) {
        String t = tokenText[token];
        if (t == null) tokenText[token] = t = decode(bytes(token));
        return t;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        if (a.length == 0) return b;
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String decode(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * How many of the bytes end in whole characters: all but a last UTF-8 sequence that more bytes may still
     * complete (a lead byte with fewer continuation bytes after it than it announces). The bytes before that
     * point decode the same, whatever follows (checked for all byte strings of up to 6 bytes over the lead,
     * continuation and invalid byte classes with Java's decoder).
     */
    static int completeChars(byte[] b) {
        int len = b.length;
        for (int k = len - 1; k >= Math.max(0, len - 3); k--) {
            int x = b[k] & 0xff;
            if (x < 0x80) return len;
            if (x >= 0xC0) {
                int need = x >= 0xF0 ? 4 : x >= 0xE0 ? 3 : 2;
                return len - k < need ? k : len;
            }
        }
        return len;
    }

    // ------------------------------------------------------------------------ the reference: whole texts

    /** Whether {@code sql}, read from its start, can still be the start of a query over the schema. */
    static boolean viable(String sql, SchemaNames names) {
        return SqlScanner.viable(sql, names);
    }

    /**
     * Whether {@code sql} may end here: its last name is a whole name of the schema (not the start of one, as
     * {@code table_1} of {@code table_12}), every qualified column belongs to its table or to the table its
     * alias names, every bare column to a table the query uses, no string literal or quoted name is left open
     * (the guard's parser took {@code SELECT count(*) FROM student'}), and the query passes the guard.
     */
    static boolean complete(String sql, SchemaNames names) {
        if (SqlScanner.endsInAKeywordThatNeedsMore(sql)) return false;
        SqlScanner scan = new SqlScanner(names);
        return scan.run(sql + " ", 0) && !scan.openQuote() && scan.consistent() && resolves(sql, names);
    }

    /** Whether the guard takes {@code sql} and every name of it resolves ({@link QueryNames}) on the tree JSqlParser makes of it. */
    static boolean resolves(String sql, SchemaNames names) {
        SqlCheck check = SqlGuard.check(sql);
        return check.allowed() && QueryNames.unresolved(check.sql(), names) == null;
    }

    /**
     * What {@code allows} answers, the slow way: the whole sequence decoded and read from the start for each
     * candidate, as before states existed (a token that ends inside a character then asks whether some character
     * completing it keeps the text viable). Kept as the reference the states are tested against.
     */
    boolean referenceAllows(int seq, int[] generated, int count, int token) {
        int i = names.size() == 1 ? 0 : seq;
        SchemaNames n = names.get(i);
        if (token == endId) return count > 0 && complete(tokenizer.decode(Arrays.copyOf(generated, count)), n);
        if (tokenizer.specialTokens().containsValue(token)) return false;
        int[] ids = Arrays.copyOf(generated, count + 1);
        ids[count] = token;
        byte[] b = tokenizer.decodeBytes(ids);
        int whole = completeChars(b);
        if (whole == b.length) return viable(decode(b), n);
        String head = new String(b, 0, whole, StandardCharsets.UTF_8);
        for (String c : completions(i, Arrays.copyOfRange(b, whole, b.length))) if (viable(head + c, n)) return true;
        return false;
    }

    /** The same for {@code prefer}. */
    void referencePrefer(int seq, int[] generated, int count, float[] logits) {
        int i = names.size() == 1 ? 0 : seq;
        if (linking == null || linking.namesNone(i) || count == 0) return;
        String text = tokenizer.decode(Arrays.copyOf(generated, count));
        SqlScanner scan = new SqlScanner(names.get(i));
        if (!scan.run(text + " ", 0) || !scan.expectTable() || !scan.singleTableFrom()) return;
        linking.addBonus(i, scan.tableChoices(), Character.isWhitespace(text.charAt(text.length() - 1)), logits);
    }

    /** Sequence {@code seq}'s names (for tests). */
    SchemaNames names(int seq) {
        return names.get(names.size() == 1 ? 0 : seq);
    }
}
