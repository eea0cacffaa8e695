package dev.gpt4j.data;

import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The text-to-SQL prompt: {@code <|schema|>} compact schema {@code <|question|>} question {@code <|sql|>} SQL
 * {@code <|endoftext|>}. Schema, question and SQL are encoded as plain text (a question that contains
 * {@code <|sql|>} cannot inject a marker). The tokenizer must know the four special tokens
 * ({@link #SPECIAL_TOKENS}).
 *
 * <p><b>Schemas that do not fit</b> the token budget are cut by whole tables, never mid-token: tables the gold
 * SQL uses are kept first (training only), then tables ranked by how many question words occur in their
 * table or column names (ties in schema order); kept tables stay in schema order. If the required tables alone
 * do not fit, there is no example ({@link #example} returns null) and the caller counts it.
 */
public final class PromptFormat {
    public static final String SCHEMA = "<|schema|>";
    public static final String QUESTION = "<|question|>";
    public static final String SQL = "<|sql|>";
    public static final String END = BpeTokenizer.END_OF_TEXT;
    public static final List<String> SPECIAL_TOKENS = List.of(END, SCHEMA, QUESTION, SQL);

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    private final BpeTokenizer tokenizer;
    private final int schemaId;
    private final int questionId;
    private final int sqlId;
    private final int endId;

    public PromptFormat(BpeTokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.schemaId = require(tokenizer, SCHEMA);
        this.questionId = require(tokenizer, QUESTION);
        this.sqlId = require(tokenizer, SQL);
        this.endId = require(tokenizer, END);
    }

    private static int require(BpeTokenizer tok, String special) {
        Integer id = tok.specialTokens().get(special);
        if (id == null) {
            throw new IllegalArgumentException("the tokenizer has no special token " + special + " (the prompt needs "
                    + SPECIAL_TOKENS + "; add them with withSpecialTokens or train the vocabulary with them)");
        }
        return id;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    public int endId() {
        return endId;
    }

    public int sqlId() {
        return sqlId;
    }

    /** The prompt as text (for people and logs). */
    public static String promptText(Schema schema, String question) {
        return SCHEMA + withTrainingTypes(schema).compact() + QUESTION + question.strip() + SQL;
    }

    /**
     * A fingerprint of the schema as the prompt shows it ({@code sha256:} and 64 hex digits of the compact rendering
     * with {@link #trainingType}s): two schemas with the same fingerprint give the model the same prompt, whether they
     * were read from DDL, a SQLite file or Spider's tables.json. An adapter learned for one schema records it.
     */
    public static String schemaHash(Schema schema) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(withTrainingTypes(schema).compact().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The column types the training data uses: Spider's ({@code tables.json}) and WikiSQL's. */
    static final Set<String> TRAINING_TYPES = Set.of("text", "number", "time", "boolean", "others", "real");

    /**
     * A column type in the training data's words: types from {@code CREATE TABLE} statements or SQLite
     * ({@code INTEGER}, {@code VARCHAR(20)}, {@code DATETIME}, ...) become Spider's {@code number}, {@code text},
     * {@code time}, {@code boolean} or {@code others}, by SQLite's type-affinity rules (plus dates and booleans);
     * the training vocabulary and an empty type are kept. A model has only seen these words in its prompts.
     */
    public static String trainingType(String type) {
        String t = type.toLowerCase(Locale.ROOT).strip();
        if (t.isEmpty() || TRAINING_TYPES.contains(t)) return t;
        if (t.contains("bool")) return "boolean";
        if (t.contains("date") || t.contains("time") || t.equals("year")) return "time";
        if (t.contains("int")) return "number";
        if (t.contains("char") || t.contains("clob") || t.contains("text")) return "text";
        if (t.contains("blob")) return "others";
        return "number"; // REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL(10,2), ...: SQLite's REAL and NUMERIC affinities
    }

    /** The schema with {@link #trainingType} applied to every column (the same object if nothing changes). */
    static Schema withTrainingTypes(Schema schema) {
        boolean same = schema.tables().stream().flatMap(t -> t.columns().stream()).allMatch(c -> trainingType(c.type()).equals(c.type()));
        if (same) return schema;
        List<Table> tables = new ArrayList<>();
        for (Table t : schema.tables()) {
            List<Column> cols = new ArrayList<>();
            for (Column c : t.columns()) cols.add(new Column(c.name(), trainingType(c.type())));
            tables.add(new Table(t.name(), cols, t.primaryKey()));
        }
        return new Schema(schema.name(), tables, schema.foreignKeys());
    }

    /**
     * A training example, or null when even the tables the SQL needs do not fit in {@code maxTokens}. The SQL
     * is normalized ({@link SqlText#normalizeSpace}).
     */
    public Example example(Schema schema, String question, String sql, int maxTokens) {
        schema = withTrainingTypes(schema);
        String answer = SqlText.normalizeSpace(sql);
        int[] answerTokens = encode(answer);
        int[] questionTokens = encode(question.strip());
        int fixed = 3 + questionTokens.length + answerTokens.length + 1;
        Fitted f = fit(schema, question, tablesUsed(schema, answer), maxTokens - fixed);
        if (f == null) {
            return null;
        }
        int[] tokens = assemble(f.tokens, questionTokens, answerTokens);
        int answerStart = tokens.length - answerTokens.length - 1;
        return new Example(tokens, answerStart, f.dropped);
    }

    /**
     * The prompt tokens for inference (ending in {@code <|sql|>}), leaving {@code reserve} tokens of
     * {@code maxTokens} for the answer. Column types are put in the training data's words ({@link #trainingType});
     * the schema is cut by the question-overlap rule if needed.
     *
     * @throws IllegalArgumentException if the question alone does not fit
     */
    public int[] prompt(Schema schema, String question, int maxTokens, int reserve) {
        schema = withTrainingTypes(schema);
        int[] questionTokens = encode(question.strip());
        int budget = maxTokens - reserve - 3 - questionTokens.length;
        Fitted f = fit(schema, question, Set.of(), budget);
        if (f == null) {
            throw new IllegalArgumentException("the question (" + questionTokens.length + " tokens) leaves no room for "
                    + "the schema in " + maxTokens + " tokens with " + reserve + " reserved for the SQL");
        }
        return assemble(f.tokens, questionTokens, null);
    }

    /** {@code <|schema|>} schema {@code <|question|>} question {@code <|sql|>}, then answer and end when given. */
    private int[] assemble(int[] schemaTokens, int[] questionTokens, int[] answerTokens) {
        int answer = answerTokens == null ? 0 : answerTokens.length + 1;
        int[] tokens = new int[3 + schemaTokens.length + questionTokens.length + answer];
        int n = 0;
        tokens[n++] = schemaId;
        System.arraycopy(schemaTokens, 0, tokens, n, schemaTokens.length);
        n += schemaTokens.length;
        tokens[n++] = questionId;
        System.arraycopy(questionTokens, 0, tokens, n, questionTokens.length);
        n += questionTokens.length;
        tokens[n++] = sqlId;
        if (answerTokens != null) {
            System.arraycopy(answerTokens, 0, tokens, n, answerTokens.length);
            tokens[n + answerTokens.length] = endId;
        }
        return tokens;
    }

    private int[] encode(String text) {
        return tokenizer.encode(text, SpecialTokens.PLAIN_TEXT);
    }

    private record Fitted(int[] tokens, int dropped) {}

    /** Chooses tables by the rule in the class comment; null if the required ones do not fit in {@code budget}. */
    private Fitted fit(Schema schema, String question, Set<String> required, int budget) {
        if (budget < 0) {
            return null;
        }
        int[] all = encode(schema.compact());
        if (all.length <= budget) {
            return new Fitted(all, 0);
        }
        List<Table> tables = schema.tables();
        int[] cost = new int[tables.size()];
        for (int i = 0; i < cost.length; i++) {
            cost[i] = encode(schema.compact(tables.get(i))).length + 1;
        }
        Set<String> words = words(question);
        Integer[] order = new Integer[tables.size()];
        int[] score = new int[tables.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            Table t = tables.get(i);
            score[i] = required.contains(t.name().toLowerCase(Locale.ROOT)) ? Integer.MAX_VALUE : overlap(words, t);
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -score[i]).thenComparingInt(i -> i));
        List<String> keep = new ArrayList<>();
        int used = 0;
        for (int i : order) {
            boolean isRequired = score[i] == Integer.MAX_VALUE;
            if (used + cost[i] <= budget) {
                keep.add(tables.get(i).name());
                used += cost[i];
            } else if (isRequired) {
                return null;
            }
        }
        // The per-table estimate can differ from encoding the joined text: drop the last-ranked table until it fits.
        while (true) {
            Schema kept = schema.keep(keep);
            int[] tokens = encode(kept.compact());
            if (tokens.length <= budget) {
                return new Fitted(tokens, tables.size() - keep.size());
            }
            if (keep.isEmpty() || required.contains(keep.get(keep.size() - 1).toLowerCase(Locale.ROOT))) {
                return null;
            }
            keep.remove(keep.size() - 1);
        }
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        var m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            String w = m.group();
            if (w.length() >= 3) {
                out.add(stem(w));
            }
        }
        return out;
    }

    private static String stem(String w) {
        if (w.endsWith("ies") && w.length() > 4) {
            return w.substring(0, w.length() - 3) + "y";
        }
        if (w.endsWith("s") && !w.endsWith("ss") && w.length() > 3) {
            return w.substring(0, w.length() - 1);
        }
        return w;
    }

    /** Question words found in the table's column names, plus twice those in its own name ("How many singers" keeps singer). */
    private static int overlap(Set<String> questionWords, Table t) {
        Set<String> tableWords = words(t.name().replace('_', ' '));
        Set<String> names = new HashSet<>(tableWords);
        for (Column c : t.columns()) {
            names.addAll(words(c.name().replace('_', ' ')));
        }
        int n = 0;
        for (String w : names) {
            n += questionWords.contains(w) ? (tableWords.contains(w) ? 2 : 1) : 0;
        }
        return n;
    }

    /** Lower-cased names of the schema's tables that occur as identifiers in {@code sql} (outside string literals). */
    public static Set<String> tablesUsed(Schema schema, String sql) {
        String code = SqlText.withoutStringLiterals(sql).toLowerCase(Locale.ROOT);
        Set<String> out = new HashSet<>();
        for (Table t : schema.tables()) {
            String name = t.name().toLowerCase(Locale.ROOT);
            Pattern p = Pattern.compile("(?<![\\p{L}\\p{N}_])[\"`\\[]?" + Pattern.quote(name) + "[\"`\\]]?(?![\\p{L}\\p{N}_])");
            if (p.matcher(code).find()) {
                out.add(name);
            }
        }
        return out;
    }
}
