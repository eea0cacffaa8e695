package dev.gpt4j.sql;

import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.data.Column;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.data.Table;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

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
 * This cuts out invented names, columns of the wrong table and unbalanced SQL; it does not check types.
 */
public final class SqlConstraint implements TokenConstraint {
    /** Functions: a name of these (that is no column of the schema) must be called, with "(" next. */
    private static final Set<String> FUNCTIONS = Set.of("count", "sum", "avg", "min", "max", "total",
            "group_concat", "lower", "upper", "length", "abs", "round", "substr", "substring", "instr", "replace", "trim",
            "ltrim", "rtrim", "coalesce", "ifnull", "iif", "nullif", "strftime", "date", "time", "datetime", "julianday", "cast");

    /** The bare words a query may use besides the schema's names: SQL keywords and {@link #FUNCTIONS}. */
    private static final Set<String> KEYWORDS = union(FUNCTIONS, List.of(
            "select", "distinct", "from", "where", "group", "by", "having", "order", "asc", "desc", "limit", "offset",
            "join", "inner", "left", "right", "outer", "cross", "natural", "on", "using", "as", "and", "or", "not", "in",
            "like", "glob", "between", "is", "null", "exists", "union", "intersect", "except", "all", "case", "when",
            "then", "else", "end", "with", "values", "escape", "collate", "nocase", "true", "false", "integer",
            "text", "real", "numeric"));

    /** The characters a query may have outside names, numbers, strings and quoted names, besides white space. */
    private static final String OPERATORS = "(),*=<>!+-/%;|";

    /** What may follow LIMIT's number besides the end and ")". */
    private static final TreeSet<String> AFTER_LIMIT = new TreeSet<>(List.of("offset"));

    /** Keywords that open a clause of a SELECT: they may come only in the order of {@link Scan#clauseAllows}. */
    private static final Set<String> CLAUSES = Set.of("select", "from", "join", "on", "where", "group", "having", "order", "limit",
            "union", "intersect", "except", "asc", "desc");

    private static Set<String> union(Set<String> a, List<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    /**
     * What {@link #prefer} adds to the logit of a token that starts a table the question names: e^2, about 7
     * times the odds. Set before it was measured, not tuned on a dev set.
     */
    public static final float TABLE_BONUS = 2.0f;

    private final BpeTokenizer tokenizer;
    private final int endId;
    private final List<Names> names;
    private final boolean linkTables;
    /** Per sequence and named table: the tokens that start the name, with a space before it ([0]) and without ([1]). */
    private List<Map<String, int[][]>> tableStarts;

    /** One schema per sequence of a batch (sequence i uses {@code schemas.get(i)}). */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas) {
        this(tokenizer, schemas, null);
    }

    /**
     * As {@link #SqlConstraint(BpeTokenizer, List)}; with {@code questions} (one per schema, or null), every
     * string literal must also occur in its question, ignoring case (the {@code %} of LIKE patterns aside).
     */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas, List<String> questions) {
        this(tokenizer, schemas, questions, questions != null, false);
    }

    /**
     * With {@code questions} (one per schema; null only when both switches are off): {@code valuesFromQuestion}
     * makes every string literal occur in its question, and {@code linkTables} makes {@link #prefer} favour the
     * tables the question names where a table comes next.
     */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas, List<String> questions, boolean valuesFromQuestion,
                         boolean linkTables) {
        this(tokenizer, schemas, questions, valuesFromQuestion, linkTables, false);
    }

    /**
     * As above; with {@code oneConditionPerColumn}, a column may occur only once in each SELECT's WHERE clause
     * (WikiSQL's grammar), refused while its name is written.
     */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas, List<String> questions, boolean valuesFromQuestion,
                         boolean linkTables, boolean oneConditionPerColumn) {
        if (questions == null ? valuesFromQuestion || linkTables : questions.size() != schemas.size()) {
            throw new IllegalArgumentException(schemas.size() + " schemas but " + (questions == null ? "no" : questions.size()) + " questions");
        }
        this.tokenizer = tokenizer;
        this.endId = tokenizer.specialTokenId(BpeTokenizer.END_OF_TEXT);
        this.linkTables = linkTables;
        List<Names> n = new ArrayList<>(schemas.size());
        for (int i = 0; i < schemas.size(); i++) {
            Names base = Names.of(schemas.get(i), valuesFromQuestion ? questions.get(i) : null);
            if (oneConditionPerColumn) base = base.withOneConditionPerColumn();
            n.add(linkTables ? base.naming(namedTables(base.tables(), questions.get(i))) : base);
        }
        this.names = List.copyOf(n);
    }

    /**
     * The tables a question names: a table's name with its underscores as spaces, or that in the singular or plural
     * ("singer" and "singers", "country" and "countries"), as whole words, ignoring case.
     */
    static Set<String> namedTables(Set<String> tables, String question) {
        String q = " " + question.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ") + " ";
        Set<String> out = new TreeSet<>();
        for (String t : tables) {
            String base = t.replace('_', ' ').trim();
            if (base.isEmpty()) continue;
            List<String> forms = new ArrayList<>(List.of(base));
            if (base.endsWith("s")) forms.add(base.substring(0, base.length() - 1));
            else forms.add(base + "s");
            if (base.endsWith("y")) forms.add(base.substring(0, base.length() - 1) + "ies");
            if (base.endsWith("ies")) forms.add(base.substring(0, base.length() - 3) + "y");
            for (String f : forms) {
                if (!f.isBlank() && q.contains(" " + f + " ")) {
                    out.add(t);
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Adds {@link #TABLE_BONUS} to the tokens that start a table the question names, when the first table after
     * FROM comes next in a SELECT whose list qualifies no column (so no join is announced), and the constraint
     * allows that table there. Only with {@code linkTables}.
     */
    @Override
    public void prefer(int seq, int[] generated, int count, float[] logits) {
        if (!linkTables) return;
        int i = names.size() == 1 ? 0 : seq;
        Names n = names.get(i);
        if (n.named().isEmpty() || count == 0) return;
        String text = tokenizer.decode(Arrays.copyOf(generated, count));
        Scan scan = new Scan(n);
        // the space completes a FROM at the end; after JOIN, or after a FROM whose SELECT list qualifies a column
        // (a join announced), the named table is less often the one due
        if (!scan.run(text + " ") || !scan.expectTable || !scan.singleTableFrom) return;
        boolean spaced = Character.isWhitespace(text.charAt(text.length() - 1));
        Set<Integer> done = new HashSet<>();
        for (Map.Entry<String, int[][]> e : tableStarts().get(i).entrySet()) {
            if (!scan.tableChoices.contains(e.getKey())) continue;
            for (int t : e.getValue()[spaced ? 1 : 0]) if (done.add(t)) logits[t] += TABLE_BONUS;
        }
    }

    /** {@link #tableStarts}, worked out on first use: each vocabulary entry's text, matched against the named tables. */
    private List<Map<String, int[][]>> tableStarts() {
        if (tableStarts != null) return tableStarts;
        int V = tokenizer.vocabSize();
        String[] text = new String[V];
        Set<Integer> special = new HashSet<>(tokenizer.specialTokens().values());
        for (int v = 0; v < V; v++) text[v] = special.contains(v) ? "" : tokenizer.decode(new int[] {v}).toLowerCase(Locale.ROOT);
        List<Map<String, int[][]>> all = new ArrayList<>(names.size());
        for (Names n : names) {
            Map<String, int[][]> m = new HashMap<>();
            for (String t : n.named()) {
                List<Integer> spaced = new ArrayList<>(), bare = new ArrayList<>();
                for (int v = 0; v < V; v++) {
                    String s = text[v];
                    if (s.length() > 1 && s.charAt(0) == ' ' && t.startsWith(s.substring(1))) spaced.add(v);
                    else if (!s.isEmpty() && !Character.isWhitespace(s.charAt(0)) && t.startsWith(s)) bare.add(v);
                }
                m.put(t, new int[][] {spaced.stream().mapToInt(Integer::intValue).toArray(), bare.stream().mapToInt(Integer::intValue).toArray()});
            }
            all.add(m);
        }
        tableStarts = List.copyOf(all);
        return tableStarts;
    }

    /** The same schema for every sequence. */
    public SqlConstraint(BpeTokenizer tokenizer, Schema schema) {
        this(tokenizer, List.of(schema));
    }

    /** What one schema allows, all lower-case. */
    record Names(TreeSet<String> known, TreeSet<String> quoted, TreeSet<String> tables, TreeSet<String> columns,
                 Map<String, Set<String>> columnsOf, String question, Set<String> named, boolean oneConditionPerColumn,
                 Map<String, Set<String>> spellings) {
        static Names of(Schema s) {
            return of(s, null);
        }

        /** With a question: string literals must occur in it (lower-cased here). */
        static Names of(Schema s, String question) {
            TreeSet<String> tables = new TreeSet<>(), columns = new TreeSet<>();
            Map<String, Set<String>> columnsOf = new HashMap<>();
            Map<String, Set<String>> spellings = new HashMap<>();
            for (Table t : s.tables()) {
                String tn = t.name().toLowerCase(Locale.ROOT);
                tables.add(tn);
                spellings.computeIfAbsent(tn, k -> new HashSet<>()).add(t.name());
                Set<String> cs = columnsOf.computeIfAbsent(tn, k -> new HashSet<>());
                for (Column c : t.columns()) {
                    String cn = c.name().toLowerCase(Locale.ROOT);
                    columns.add(cn);
                    cs.add(cn);
                    spellings.computeIfAbsent(cn, k -> new HashSet<>()).add(c.name());
                }
            }
            TreeSet<String> quoted = new TreeSet<>(tables);
            quoted.addAll(columns);
            TreeSet<String> known = new TreeSet<>(quoted);
            known.addAll(KEYWORDS);
            return new Names(known, quoted, tables, columns, columnsOf, question == null ? null : question.toLowerCase(Locale.ROOT), Set.of(),
                    false, spellings);
        }

        /** These names, with the tables a question names ({@link #namedTables}). */
        Names naming(Set<String> namedTables) {
            return new Names(known, quoted, tables, columns, columnsOf, question, Set.copyOf(namedTables), oneConditionPerColumn, spellings);
        }

        /** These names, where a WHERE clause may test each column once. */
        Names withOneConditionPerColumn() {
            return new Names(known, quoted, tables, columns, columnsOf, question, named, true, spellings);
        }
    }

    @Override
    public boolean allows(int seq, int[] generated, int count, int token) {
        Names n = names.get(names.size() == 1 ? 0 : seq);
        if (token == endId) return count > 0 && complete(tokenizer.decode(Arrays.copyOf(generated, count)), n);
        if (tokenizer.specialTokens().containsValue(token)) return false;
        int[] ids = Arrays.copyOf(generated, count + 1);
        ids[count] = token;
        return viable(tokenizer.decode(ids), n);
    }

    /**
     * Whether {@code sql} may end here: its last name is a whole name of the schema (not the start of one, as
     * {@code table_1} of {@code table_12}), every qualified column belongs to its table or to the table its
     * alias names, every bare column to a table the query uses, no string literal or quoted name is left open
     * (the guard's parser took {@code SELECT count(*) FROM student'}), and the query passes the guard.
     */
    static boolean complete(String sql, Names names) {
        if (endsInAKeywordThatNeedsMore(sql)) return false;
        Scan scan = new Scan(names);
        return scan.run(sql + " ") && !scan.openQuote && scan.consistent() && SqlGuard.check(sql).allowed();
    }

    /** Keywords after which a query cannot end. */
    private static final Set<String> NEEDS_MORE = Set.of("select", "distinct", "from", "join", "on", "where", "and", "or", "not", "group",
            "order", "by", "having", "limit", "offset", "union", "intersect", "except", "all", "as", "in", "like", "glob", "between", "is",
            "exists", "case", "when", "then", "else");

    /**
     * Whether the text ends in a bare keyword that must be followed by something ({@code ... FROM t ORDER}): the
     * guard's parser reads {@code t ORDER} as a table with an alias, SQLite as incomplete input. A run-away answer
     * cut back to its last complete query was cut there.
     */
    static boolean endsInAKeywordThatNeedsMore(String sql) {
        int end = sql.length();
        while (end > 0 && Character.isWhitespace(sql.charAt(end - 1))) end--;
        int start = end;
        while (start > 0 && (Character.isLetter(sql.charAt(start - 1)) || sql.charAt(start - 1) == '_')) start--;
        if (start == end || start > 0 && (Character.isDigit(sql.charAt(start - 1)) || "\"`[.".indexOf(sql.charAt(start - 1)) >= 0)) return false;
        return NEEDS_MORE.contains(sql.substring(start, end).toLowerCase(Locale.ROOT));
    }

    /** Whether {@code sql} can still be the start of a query over the schema. */
    static boolean viable(String sql, Names names) {
        return new Scan(names).run(sql);
    }

    /**
     * One left-to-right pass over the SQL text. Besides the names, it knows three positions: after FROM or JOIN
     * comes a table (or a sub-query), after {@code name.} a column, after AS an alias. It records what
     * {@link #consistent()} checks at the end: aliases, qualified and bare columns, the tables used.
     */
    private static final class Scan {
        final Names n;
        final Map<String, Set<String>> aliases = new HashMap<>();
        /** The tables named after FROM or JOIN: the ones the query reads (a qualifier alone reads none). */
        final Set<String> tablesRead = new HashSet<>();
        final List<String[]> qualified = new ArrayList<>(); // {qualifier, column}
        final List<String> bare = new ArrayList<>();
        /** The table aliases defined since the last SELECT: one may not be defined twice in one SELECT. */
        final Set<String> aliasesOfSelect = new HashSet<>();
        /** Where the bare and qualified columns of the innermost SELECT start in {@link #bare} and {@link #qualified}. */
        int selectStart, selectQualifiedStart;
        /** The tables that may follow the FROM just written: see {@link #fromTables}. */
        TreeSet<String> tableChoices;
        boolean afterAs, expectTable, afterDot, valuePos, valueList;
        /** The text ends inside a string literal or a quoted name: it may go on, but not end there. */
        boolean openQuote;
        /** The table due is the first after FROM of a SELECT whose list qualified no column (no join announced). */
        boolean singleTableFrom;
        boolean needParen;       // the last name was a function: "(" must come next
        String pendingAlias;     // a T1-style name just written: "." must come next (a qualifier), unless it defines one
        String qualifier, lastTable, lastName;
        int lastNameEnd = -1;
        /**
         * T-style aliases come in order, as Spider writes them: the first of a SELECT is T1 or one above the
         * largest of the query so far ("... EXCEPT SELECT T3.x FROM a AS T3"), each next one is one above the last.
         */
        int maxAlias, lastAliasOfSelect;
        /** Parenthesis depth, and per depth how far its SELECT has come (see {@link #clauseAllows}). */
        int depth;
        int[] clause = new int[8];
        /** After LIMIT: 1 while its number is due, 2 after it (only the end, ")" or OFFSET may follow). */
        int limit;
        /** Per depth, the columns its WHERE clause has named so far ({@code qualifier.column} or {@code column}). */
        final List<Set<String>> whereColumns = new ArrayList<>();

        Scan(Names n) {
            this.n = n;
        }

        boolean run(String sql) {
            int len = sql.length();
            int i = 0;
            while (i < len) {
                char c = sql.charAt(i);
                if (!Character.isWhitespace(c)) {
                    if (needParen && c != '(') return false; // "SELECT count FROM": a function that is not called
                    needParen = false;
                    if (pendingAlias != null && c != '.') return false; // "ON T1 =": an alias must qualify a column
                    pendingAlias = null;
                }
                if (c == '\'' || c == '"' && valuePos) {
                    // a string literal; Spider writes them in double quotes too (SQLite reads "x" as a string
                    // where it is no name), so a double-quoted text right after a comparison is a value
                    if (expectTable || afterDot || limit > 0 || lastTable != null) return false; // no value right after a table
                    char quote = c;
                    int j = i + 1;
                    StringBuilder value = n.question == null ? null : new StringBuilder();
                    boolean pattern = "like".equals(lastName) || "glob".equals(lastName); // "%" is a wildcard only here
                    while (true) {
                        if (j >= len) { // inside a string literal
                            openQuote = true;
                            return value == null || inQuestion(value, false, pattern);
                        }
                        if (sql.charAt(j) == quote) {
                            if (j + 1 < len && sql.charAt(j + 1) == quote) {
                                if (value != null) value.append(quote);
                                j += 2;
                            } else break;
                        } else {
                            if (value != null) value.append(sql.charAt(j));
                            j++;
                        }
                    }
                    if (value != null && !inQuestion(value, true, pattern)) return false;
                    i = j + 1;
                    afterAs = valuePos = false;
                    lastTable = null;
                } else if (c == '"' || c == '`' || c == '[') {
                    if (limit > 0) return false;
                    char close = c == '[' ? ']' : c;
                    int j = sql.indexOf(close, i + 1);
                    String w = sql.substring(i + 1, j < 0 ? len : j).toLowerCase(Locale.ROOT);
                    if (j < 0) {
                        openQuote = true;
                        if (afterAs) return true;
                        if (expectTable) return startsSomeName(w, tableChoices);
                        return startsSomeUnusedName(w, afterDot ? n.columns : n.quoted);
                    }
                    if (!name(w, true)) return false;
                    i = j + 1;
                    lastNameEnd = i;
                } else if (Character.isLetter(c) || c == '_') {
                    int j = i;
                    while (j < len && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) j++;
                    String w = sql.substring(i, j).toLowerCase(Locale.ROOT);
                    if (!casedLikeTheSchema(sql.substring(i, j), w)) return false;
                    if (j == len) return partial(w);
                    boolean definedByAs = afterAs;
                    String tableBefore = expectTable || afterDot ? null : lastTable;
                    if (!name(w, false)) return false;
                    i = j;
                    lastNameEnd = i;
                    if (FUNCTIONS.contains(w) && !n.columns.contains(w)) needParen = true;
                    else if (isAlias(w, false) && !definedByAs) {
                        if (clashes(w, tableBefore)) return false;
                        if (tableBefore != null) { // "singer T1"
                            if (!defineAlias(w)) return false;
                            aliases.computeIfAbsent(w, k -> new HashSet<>()).add(tableBefore);
                        } else pendingAlias = w;
                    }
                } else if (Character.isDigit(c)) {
                    if (expectTable || afterDot || limit == 2) return false;
                    if (limit == 1) limit = 2;
                    int j = i;
                    while (j < len && (Character.isDigit(sql.charAt(j)) || sql.charAt(j) == '.')) j++;
                    // a number ends before a letter: "LIMIT 1WinsatshertType0.reconlert" is no number
                    if (j < len && (Character.isLetter(sql.charAt(j)) || sql.charAt(j) == '_')) return false;
                    i = j;
                    afterAs = valuePos = false;
                    lastTable = null;
                } else if (c == '.') {
                    // a qualifier: a table, or an alias (T1-style ones may be defined later in the query)
                    if (lastNameEnd != i || lastName == null) return false;
                    String q = lastName;
                    if (!n.tables.contains(q) && !aliases.containsKey(q) && !isAlias(q, false)) return false;
                    qualifier = q;
                    afterDot = true;
                    afterAs = false;
                    expectTable = false;
                    lastTable = null;
                    i++;
                } else {
                    if (c == '(') {
                        if (++depth == clause.length) clause = java.util.Arrays.copyOf(clause, 2 * depth);
                        clause[depth] = 0;
                    }
                    if (c == ')' && --depth < 0) return false;
                    if (!Character.isWhitespace(c) && OPERATORS.indexOf(c) < 0) return false; // "FROM t ?", a stray byte's U+FFFD
                    if (!Character.isWhitespace(c)) {
                        if (afterDot && c != '*') return false;
                        if (limit == 1 || limit == 2 && c != ')' && c != ';') return false; // "LIMIT 1 AND", "LIMIT 1 LIMIT 1"
                        limit = 0;
                        afterAs = expectTable = afterDot = false;
                        boolean inList = c == '(' && "in".equals(lastName) || c == ',' && valueList;
                        valueList = inList;
                        valuePos = c == '=' || c == '<' || c == '>' || c == '!' || inList;
                        lastTable = null;
                        lastName = null;
                    }
                    i++;
                }
            }
            return true;
        }

        /**
         * Whether a string value ({@code whole}) or the start of one occurs in the question. A LIKE or GLOB
         * {@code pattern}'s pieces between its % only have to occur somewhere. Any other value must be a span of the
         * question's words: where it starts with a letter or digit, the question has neither a letter or digit nor a
         * sign or point (+ - .) before it; where it ends with one, no letter or digit after it. So "att" of "attached",
         * "ol" of "household", "7" of "+7" and "5" of "1.5" are no values, while "40" of "#40" or "8.1" of "8.1%" are
         * (WikiSQL's gold values are written both ways).
         */
        private boolean inQuestion(CharSequence value, boolean whole, boolean pattern) {
            String v = value.toString().toLowerCase(Locale.ROOT);
            String q = n.question;
            if (pattern) {
                for (String piece : v.split("%")) {
                    if (!q.contains(piece)) return false;
                }
                return true;
            }
            if (v.isEmpty()) return true;
            for (int at = q.indexOf(v); at >= 0; at = q.indexOf(v, at + 1)) {
                char before = at == 0 ? ' ' : q.charAt(at - 1);
                boolean starts = !Character.isLetterOrDigit(v.charAt(0)) || !Character.isLetterOrDigit(before) && "+-.".indexOf(before) < 0;
                int end = at + v.length();
                boolean ends = !whole || end == q.length() || !Character.isLetterOrDigit(v.charAt(v.length() - 1))
                        || !Character.isLetterOrDigit(q.charAt(end));
                if (starts && ends) return true;
            }
            return false;
        }

        /** A whole name (bare or quoted) in the current position. */
        private boolean name(String w, boolean quotedName) {
            if (limit == 1) return false;
            if (limit == 2) {
                if (quotedName || !AFTER_LIMIT.contains(w)) return false;
                limit = w.equals("offset") ? 1 : 0;
            }
            lastName = null;
            valuePos = valueList = false;
            if (afterAs) {
                afterAs = false;
                if (clashes(w, lastTable)) return false;
                if (lastTable != null && !defineAlias(w)) return false; // "a AS T2 JOIN b AS T2", "a AS T2" first
                Set<String> to = aliases.computeIfAbsent(w, k -> new HashSet<>());
                if (lastTable != null) to.add(lastTable);
                lastTable = null;
                return true;
            }
            if (expectTable) {
                expectTable = false;
                if (!tableChoices.contains(w)) return false;
                tablesRead.add(w);
                lastTable = w;
                lastName = w;
                return true;
            }
            if (afterDot) {
                afterDot = false;
                if (!n.columns.contains(w)) return false;
                if (inWhere() && !whereColumns.get(depth).add(qualifier + "." + w)) return false;
                qualified.add(new String[] {qualifier, w});
                lastTable = null;
                return true;
            }
            boolean keyword = !quotedName && KEYWORDS.contains(w);
            if (keyword && CLAUSES.contains(w) && !clauseAllows(w)) return false;
            if (quotedName ? !n.quoted.contains(w) : !isAlias(w, false) && !n.known.contains(w) && !aliases.containsKey(w)) return false;
            if (w.equals("as") && !quotedName) {
                afterAs = true; // keeps lastTable: "singer AS T1" names T1 for singer
                return true;
            }
            lastTable = null;
            if (!keyword && n.tables.contains(w)) {
                lastTable = w;
                // outside FROM and JOIN a table's name qualifies a column ("singer.name"); alone it is no value
                // (WHERE "table_1_10342194_3" = '(1.89%)'), unless a column has the same name (orchestra.Orchestra)
                if (!n.columns.contains(w)) pendingAlias = w;
            } else if (!keyword && !aliases.containsKey(w) && !isAlias(w, false) && n.columns.contains(w)) {
                if (inWhere() && !whereColumns.get(depth).add(w)) return false;
                bare.add(w);
            }
            if (!quotedName && w.equals("select")) {
                selectStart = bare.size();
                selectQualifiedStart = qualified.size();
                aliasesOfSelect.clear();
                lastAliasOfSelect = 0;
            }
            if (!quotedName && w.equals("limit")) limit = 1;
            expectTable = !quotedName && (w.equals("from") || w.equals("join"));
            if (expectTable) tableChoices = w.equals("from") ? fromTables() : joinTables();
            singleTableFrom = expectTable && w.equals("from") && qualified.size() == selectQualifiedStart;
            valuePos = !quotedName && (w.equals("like") || w.equals("glob") || w.equals("between"));
            lastName = w;
            return true;
        }

        /**
         * The tables the first one after FROM may be: when this SELECT's list has bare columns and no qualified
         * ones, those tables with at least one of the bare columns; else any table. "SELECT avg(salary) FROM
         * department" could still become a join with the table that has salary, but a small model that starts so
         * does not write one: it runs on until its token limit, since the query may not end while salary belongs to
         * no table it reads. A list with a qualified column ("avg(ranking), T1.first_name") announces a join, and
         * then any first table may come; of Spider's dev gold queries, only joins of that kind start with a table
         * that has none of the list's bare columns.
         */
        private TreeSet<String> fromTables() {
            if (qualified.size() > selectQualifiedStart) return tablesForTheFirstAlias();
            if (bare.size() == selectStart) return n.tables;
            TreeSet<String> out = new TreeSet<>();
            for (String t : n.tables) {
                Set<String> cs = n.columnsOf.get(t);
                for (int k = selectStart; k < bare.size(); k++) {
                    if (cs.contains(bare.get(k))) {
                        out.add(t);
                        break;
                    }
                }
            }
            return out;
        }

        /**
         * The tables a JOIN may read: once this SELECT has T-style aliases, the joined table gets the next one, so it
         * must have every column this SELECT already qualified with that alias ("SELECT T2.country FROM car_makers
         * AS T1 JOIN model_list" cannot go on: model_list has no country). Any table when none is qualified so.
         */
        private TreeSet<String> joinTables() {
            if (lastAliasOfSelect == 0) return n.tables;
            Set<String> cols = columnsQualifiedWith("t" + (lastAliasOfSelect + 1));
            if (cols.isEmpty()) return n.tables;
            TreeSet<String> out = new TreeSet<>();
            for (String t : n.tables) if (n.columnsOf.get(t).containsAll(cols)) out.add(t);
            return out;
        }

        /** The columns this SELECT has qualified with {@code alias} so far. */
        private Set<String> columnsQualifiedWith(String alias) {
            Set<String> cols = new HashSet<>();
            for (int q = selectQualifiedStart; q < qualified.size(); q++) {
                if (qualified.get(q)[0].equals(alias)) cols.add(qualified.get(q)[1]);
            }
            return cols;
        }

        /**
         * With qualified columns in this SELECT's list, the first table gets the SELECT's first alias (T1, or one
         * above the query's largest so far): it must have every column the list qualified with that alias. Any
         * table when the list qualified none with it ("SELECT T2.name FROM concert AS T1 JOIN singer AS T2").
         */
        private TreeSet<String> tablesForTheFirstAlias() {
            List<Set<String>> needs = new ArrayList<>();
            for (int k : maxAlias == 0 ? new int[] {1} : new int[] {1, maxAlias + 1}) {
                Set<String> cols = columnsQualifiedWith("t" + k);
                if (cols.isEmpty()) return n.tables;
                needs.add(cols);
            }
            TreeSet<String> out = new TreeSet<>();
            for (String t : n.tables) {
                for (Set<String> need : needs) {
                    if (n.columnsOf.get(t).containsAll(need)) {
                        out.add(t);
                        break;
                    }
                }
            }
            return out;
        }

        /**
         * Records the definition of table alias {@code w}; false if this SELECT has it already, it is out of order, or
         * it is not T-style (T1, T2, ...: Spider's and the fine-tuning data's only style; "flights AS T AS T2" was a
         * query that could never end).
         */
        private boolean defineAlias(String w) {
            if (!isAlias(w, false)) return false;
            if (!aliasesOfSelect.add(w)) return false;
            int k;
            try {
                k = Integer.parseInt(w.substring(1));
            } catch (NumberFormatException e) {
                return false; // more digits than an int: no alias a query needs
            }
            if (!(lastAliasOfSelect == 0 ? k == 1 || k == maxAlias + 1 : k == lastAliasOfSelect + 1)) return false;
            lastAliasOfSelect = k;
            maxAlias = Math.max(maxAlias, k);
            return true;
        }

        /**
         * Whether the table alias being written ("t", "t1", ...) can still become one that {@link #defineAlias} allows
         * next and the table can take.
         */
        private boolean aliasMayBecomeNext(String w) {
            if (!isAlias(w, true)) return false; // a table's alias is T-style
            int[] next = lastAliasOfSelect == 0 ? new int[] {1, maxAlias + 1} : new int[] {lastAliasOfSelect + 1};
            for (int k : next) {
                String alias = "t" + k; // "T" may wait only for an alias that the table can take
                if (alias.startsWith(w) && !clashes(alias, lastTable) && !aliasesOfSelect.contains(alias)) return true;
            }
            return false;
        }

        /**
         * Whether naming {@code table} by alias {@code w} contradicts this SELECT's columns already qualified by w:
         * "SELECT T1.salary FROM department AS T1" with salary no column of department. Refused as soon as the
         * alias is written, so that the model names the table otherwise (T2) instead of writing a query that may
         * never end.
         */
        private boolean clashes(String w, String table) {
            if (table == null) return false;
            Set<String> cs = n.columnsOf.get(table);
            for (int k = selectQualifiedStart; k < qualified.size(); k++) {
                String[] ref = qualified.get(k);
                if (ref[0].equals(w) && !cs.contains(ref[1])) return true;
            }
            return false;
        }

        /**
         * Whether clause keyword {@code w} may come now, and if so, the SELECT at this depth moves on. The stages:
         * 0 nothing yet (a query's start, inside parentheses, after UNION), 1 the SELECT list, 2 FROM and its joins,
         * 3 WHERE, 4 GROUP BY, 5 HAVING, 6 ORDER BY, 7 LIMIT. Each keyword needs an earlier stage: no FROM inside a
         * function's parentheses ("min(year FROM"), no GROUP BY after ORDER BY, no DESC outside ORDER BY, no UNION,
         * INTERSECT or EXCEPT after ORDER BY or LIMIT (a SELECT in parentheses may have them before its ")").
         */
        private boolean clauseAllows(String w) {
            int to = stageAfter(clause[depth], w);
            if (to < 0) return false;
            clause[depth] = to;
            if (to == 3 && n.oneConditionPerColumn) {
                while (whereColumns.size() <= depth) whereColumns.add(new HashSet<>());
                whereColumns.get(depth).clear();
            }
            return true;
        }

        /** The stage after clause keyword {@code w} at stage {@code at}, or -1 if it may not come there. */
        private static int stageAfter(int at, String w) {
            return switch (w) {
                case "select" -> at == 0 ? 1 : -1;
                case "from" -> at == 1 ? 2 : -1;
                case "join", "on" -> at == 2 ? 2 : -1;
                case "where" -> at == 2 ? 3 : -1;
                case "group" -> at == 2 || at == 3 ? 4 : -1;
                case "having" -> at == 4 ? 5 : -1;
                case "order" -> at >= 2 && at <= 5 ? 6 : -1;
                case "asc", "desc" -> at == 6 ? 6 : -1;
                case "limit" -> at >= 2 && at <= 6 ? 7 : -1;
                // union, intersect, except: a new SELECT follows; not after ORDER BY or LIMIT, which SQLite takes only
                // at the end of a compound SELECT ("ORDER BY clause should come after UNION not before")
                default -> at >= 2 && at <= 5 ? 0 : -1;
            };
        }

        /**
         * Whether a bare word (whole or partial; {@code lower} is it in lower case) changes case only where a
         * name of the schema it can still become does: within each run of letters, a lower-case letter may be
         * followed by a capital only where that name has a capital ({@code petType} for {@code PetType}), and a
         * capital by a lower-case letter only at the run's second letter ({@code Singer}) or where that name
         * does too ({@code CountryId}). Words that can become no name (keywords, aliases) are held to the same
         * rule against their lower case, so {@code SELECT}, {@code select}, {@code Select}, {@code T1} and
         * {@code FLIGHTS} pass, and {@code singer_in_cONcert}, {@code capaCIty} and {@code SInger_id} do not:
         * matching names regardless of case had let the model take a keyword's token ({@code ON}) inside a name,
         * which then confused the rest of its answer (593 of run 7's 972 Spider answers had such a name; 20 of
         * them were right). Every Spider and WikiSQL dev gold query passes.
         */
        private boolean casedLikeTheSchema(String raw, String lower) {
            boolean mixed = false;
            for (int k = 1; k < raw.length() && !mixed; k++) mixed = Character.isLowerCase(raw.charAt(k - 1)) && Character.isUpperCase(raw.charAt(k))
                    || Character.isUpperCase(raw.charAt(k - 1)) && Character.isLowerCase(raw.charAt(k)) && k >= 2 && Character.isLetter(raw.charAt(k - 2));
            if (!mixed) return true;
            for (String name : n.quoted.subSet(lower, true, lower + Character.MAX_VALUE, true)) {
                for (String spelled : n.spellings.getOrDefault(name, Set.of())) if (casedLike(raw, spelled)) return true;
            }
            return false;
        }

        /** {@link #casedLikeTheSchema}'s rule for one spelling of a name ({@code spelled} starts with {@code raw}, ignoring case). */
        private static boolean casedLike(String raw, String spelled) {
            for (int k = 1; k < raw.length(); k++) {
                char p = raw.charAt(k - 1), c = raw.charAt(k);
                if (Character.isLowerCase(p) && Character.isUpperCase(c) && !Character.isUpperCase(spelled.charAt(k))) return false;
                if (Character.isUpperCase(p) && Character.isLowerCase(c) && k >= 2 && Character.isLetter(raw.charAt(k - 2))
                        && !(Character.isUpperCase(spelled.charAt(k - 1)) && Character.isLowerCase(spelled.charAt(k)))) return false;
            }
            return true;
        }

        /** A name still being written at the end of the text. */
        private boolean partial(String w) {
            // after LIMIT's number nothing but OFFSET: "LIMIT 1 GROUP" may not wait to become group_concat
            if (limit == 1) return false;
            if (limit == 2) return startsSomeName(w, AFTER_LIMIT);
            if (!afterAs && !expectTable && !afterDot && CLAUSES.contains(w) && stageAfter(clause[depth], w) < 0) {
                String longer = n.known.higher(w); // "order" may still become "order_id"
                return longer != null && longer.startsWith(w);
            }
            if (afterAs || lastTable != null && isAlias(w, false)) {
                // refused while written: an alias this SELECT already defined, one that contradicts its columns, or
                // a table's alias that is not T-style
                return !clashes(w, lastTable) && !(lastTable != null
                        && (aliasesOfSelect.contains(w) || !aliasMayBecomeNext(w)));
            }
            if (expectTable) return startsSomeName(w, tableChoices);
            if (afterDot) return startsSomeUnusedName(w, n.columns);
            return isAlias(w, true) || startsSomeUnusedName(w, n.known) || aliases.keySet().stream().anyMatch(a -> a.startsWith(w));
        }

        /** Whether this position is in a WHERE clause whose columns must differ ({@link Names#oneConditionPerColumn}). */
        private boolean inWhere() {
            return n.oneConditionPerColumn && clause[depth] == 3 && depth < whereColumns.size();
        }

        /**
         * Whether some name of {@code names} starts with {@code prefix}; in a WHERE clause that tests each column once,
         * one that is not a column it has already named (after a qualifier, with that qualifier).
         */
        private boolean startsSomeUnusedName(String prefix, TreeSet<String> names) {
            if (!inWhere() || whereColumns.get(depth).isEmpty()) return startsSomeName(prefix, names);
            Set<String> used = whereColumns.get(depth);
            for (String name : names.tailSet(prefix, true)) {
                if (!name.startsWith(prefix)) return false;
                boolean column = n.columns.contains(name) && !n.tables.contains(name);
                if (!column || !used.contains(afterDot ? qualifier + "." + name : name)) return true;
            }
            return false;
        }

        /**
         * The query reads a table; no function or T1-style alias is left hanging at the end; aliases are defined;
         * columns belong to the tables they are used with.
         */
        boolean consistent() {
            if (needParen || pendingAlias != null || tablesRead.isEmpty()) return false;
            for (String[] ref : qualified) {
                // a table's own name qualifies only if the query reads it ("Pets.pet_age FROM has_pet" reads no Pets)
                Set<String> tables = aliases.containsKey(ref[0]) ? aliases.get(ref[0])
                        : tablesRead.contains(ref[0]) ? Set.of(ref[0]) : null;
                if (tables == null) return false; // an alias never defined
                if (!tables.isEmpty() && tables.stream().noneMatch(t -> n.columnsOf.get(t).contains(ref[1]))) return false;
            }
            for (String col : bare) {
                if (tablesRead.stream().noneMatch(t -> n.columnsOf.get(t).contains(col))) return false;
            }
            return true;
        }
    }

    /** Spider-style aliases: T1, T2, … (or, while still being written, "t"). */
    private static boolean isAlias(String w, boolean partial) {
        if (w.length() < 2) return partial && w.equals("t");
        if (w.charAt(0) != 't') return false;
        for (int k = 1; k < w.length(); k++) if (!Character.isDigit(w.charAt(k))) return false;
        return true;
    }

    private static boolean startsSomeName(String prefix, TreeSet<String> known) {
        String next = known.ceiling(prefix);
        return next != null && next.startsWith(prefix);
    }
}
