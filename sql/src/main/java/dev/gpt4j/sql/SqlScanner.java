package dev.gpt4j.sql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One left-to-right pass over SQL text, lexeme by lexeme: what {@link SqlConstraint} checks. Every complete name
 * outside string literals must be a SQL keyword or function, a table or column of the schema, or an alias; a name
 * still being written at the end must be the start of one. Besides the names, it knows positions: after FROM or
 * JOIN comes a table (or a sub-query), after {@code name.} a column, after AS an alias, and where SQLite takes each
 * keyword (see {@link #fits}; the random walks of SqlConstraintPromiseTest found each of these rules missing). It
 * records what {@link #consistent()} checks at the end: aliases, qualified and bare columns, the tables used.
 *
 * <p>Incremental: a lexeme that does not reach the end of the text reads the same whatever follows, so a scanner
 * that has read text up to the start of its last lexeme is a checkpoint. {@link #copy} is cheap (the copy shares
 * the collections until it first changes one), so a constraint checks a candidate by running a copy of the
 * checkpoint over the last lexeme and the candidate only. Positions ({@code lastNameEnd}) are absolute in the whole
 * text, so a pass that starts at a checkpoint compares them as the pass over the whole text does. Not thread-safe;
 * a scanner kept as a checkpoint is never run again, only copied.
 */
final class SqlScanner {
    /** Aggregate functions: not in FROM, ON, WHERE or GROUP BY ("WHERE count(*)" is a misuse to SQLite). */
    private static final Set<String> AGGREGATES = Set.of("count", "sum", "avg", "min", "max", "total", "group_concat");

    /** How many arguments each function takes in SQLite, {min, max} ("substring(x)" is an error). */
    private static final Map<String, int[]> ARITY = Map.ofEntries(Map.entry("count", new int[] {1, 1}), Map.entry("sum", new int[] {1, 1}),
            Map.entry("avg", new int[] {1, 1}), Map.entry("total", new int[] {1, 1}), Map.entry("min", new int[] {1, 99}),
            Map.entry("max", new int[] {1, 99}), Map.entry("group_concat", new int[] {1, 2}), Map.entry("lower", new int[] {1, 1}),
            Map.entry("upper", new int[] {1, 1}), Map.entry("length", new int[] {1, 1}), Map.entry("abs", new int[] {1, 1}),
            Map.entry("round", new int[] {1, 2}), Map.entry("substr", new int[] {2, 3}), Map.entry("substring", new int[] {2, 3}),
            Map.entry("instr", new int[] {2, 2}), Map.entry("replace", new int[] {3, 3}), Map.entry("trim", new int[] {1, 2}),
            Map.entry("ltrim", new int[] {1, 2}), Map.entry("rtrim", new int[] {1, 2}), Map.entry("coalesce", new int[] {2, 99}),
            Map.entry("ifnull", new int[] {2, 2}), Map.entry("iif", new int[] {3, 3}), Map.entry("nullif", new int[] {2, 2}),
            Map.entry("strftime", new int[] {1, 99}), Map.entry("date", new int[] {0, 99}), Map.entry("time", new int[] {0, 99}),
            Map.entry("datetime", new int[] {0, 99}), Map.entry("julianday", new int[] {0, 99}), Map.entry("cast", new int[] {1, 1}));

    /** Functions: a name of these (that is no column of the schema) must be called, with "(" next. */
    static final Set<String> FUNCTIONS = Set.of("count", "sum", "avg", "min", "max", "total",
            "group_concat", "lower", "upper", "length", "abs", "round", "substr", "substring", "instr", "replace", "trim",
            "ltrim", "rtrim", "coalesce", "ifnull", "iif", "nullif", "strftime", "date", "time", "datetime", "julianday", "cast");

    /** The bare words a query may use besides the schema's names: SQL keywords and {@link #FUNCTIONS}. */
    static final Set<String> KEYWORDS = union(FUNCTIONS, List.of(
            "select", "distinct", "from", "where", "group", "by", "having", "order", "asc", "desc", "limit", "offset",
            "join", "inner", "left", "right", "outer", "cross", "natural", "on", "using", "as", "and", "or", "not", "in",
            "like", "glob", "between", "is", "null", "exists", "union", "intersect", "except", "all", "case", "when",
            "then", "else", "end", "with", "values", "escape", "collate", "nocase", "true", "false", "integer",
            "text", "real", "numeric"));

    /** The characters a query may have outside names, numbers, strings and quoted names, besides white space. */
    private static final String OPERATORS = "(),*=<>!+-/%;|";

    /** What may follow LIMIT's number besides the end and ")". */
    private static final TreeSet<String> AFTER_LIMIT = new TreeSet<>(List.of("offset"));

    /** Keywords that open a clause of a SELECT: they may come only in the order of {@link #clauseAllows}. */
    private static final Set<String> CLAUSES = Set.of("select", "from", "join", "on", "where", "group", "having", "order", "limit",
            "union", "intersect", "except", "asc", "desc");

    /**
     * What may follow a table after FROM or JOIN (or its alias) besides a T-style alias: JSqlParser reads anything
     * else as a schema-qualified table ({@code FROM t.c}), an alias ({@code FROM t c}) or a table function
     * ({@code JOIN employees sum("manager_id")}), none of which names the schema's tables as SQLite reads them.
     */
    private static final TreeSet<String> AFTER_FROM_TABLE = new TreeSet<>(List.of("as", "on", "join", "inner", "left", "right", "cross",
            "where", "group", "order", "limit", "union", "intersect", "except"));

    /** Type names: only after CAST's AS (elsewhere JSqlParser takes {@code sum(text)} for a column). */
    private static final TreeSet<String> TYPES = new TreeSet<>(List.of("integer", "text", "real", "numeric"));

    /** Collation names: only after COLLATE ({@code avg(nocase)} was a column to JSqlParser). */
    private static final TreeSet<String> COLLATIONS = new TreeSet<>(List.of("nocase"));

    /**
     * SQLite's words that no bare name may be (measured on SQLite 3.54: {@code CREATE TABLE w (w INT)} or
     * {@code SELECT T1.w FROM w AS T1} fails): a schema's table "order" must be written {@code "order"}.
     */
    private static final Set<String> RESERVED = Set.of("add", "all", "alter", "and", "as", "autoincrement", "between", "case", "cast",
            "check", "collate", "commit", "constraint", "create", "default", "deferrable", "delete", "distinct", "drop", "else", "escape",
            "except", "exists", "foreign", "from", "group", "having", "if", "in", "index", "insert", "intersect", "into", "is", "isnull",
            "join", "limit", "not", "nothing", "notnull", "null", "on", "or", "order", "primary", "raise", "references", "returning",
            "select", "set", "table", "then", "to", "transaction", "union", "unique", "update", "using", "values", "when", "where");

    /** Words that want an operand after them. */
    private static final Set<String> OPERATOR_WORDS = Set.of("and", "or", "not", "like", "glob", "between", "is", "in", "escape");

    /** The words of a CASE expression after CASE: only inside one. */
    private static final Set<String> CASE_WORDS = Set.of("when", "then", "else", "end");

    /** SQL's white space: SQLite takes no other (Java's {@link Character#isWhitespace} also has U+2000 and the like). */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    /** Keywords after which a query cannot end. */
    private static final Set<String> NEEDS_MORE = Set.of("left", "right", "inner", "outer", "cross", "natural", "collate", "cast",
            "select", "distinct", "from", "join", "on", "where", "and", "or", "not", "group",
            "order", "by", "having", "limit", "offset", "union", "intersect", "except", "all", "as", "in", "like", "glob", "between", "is",
            "exists", "case", "when", "then", "else");

    private static Set<String> union(Set<String> a, List<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    private final SchemaNames n;
    /**
     * Whether this scanner's collections are its own; a {@link #copy} shares them with its original until
     * {@link #own} copies them, just before the first change.
     */
    private boolean owned = true, clauseOwned = true;
    private Map<String, Set<String>> aliases = new HashMap<>();
    /** The tables named after FROM or JOIN: the ones the query reads (a qualifier alone reads none). */
    private Set<String> tablesRead = new HashSet<>();
    private List<String[]> qualified = new ArrayList<>(); // {qualifier, column}; the arrays are never changed
    private List<String> bare = new ArrayList<>();
    /** The table aliases defined since the last SELECT: one may not be defined twice in one SELECT. */
    private Set<String> aliasesOfSelect = new HashSet<>();
    /** Per depth, the columns its WHERE clause has named so far ({@code qualifier.column} or {@code column}). */
    private List<Set<String>> whereColumns = new ArrayList<>();
    /** Per parenthesis depth, how far its SELECT has come (see {@link #clauseAllows}). */
    private int[] clause = new int[8];
    /**
     * Per parenthesis depth: how many CASE expressions are open, whether the parenthesis is CAST's (1) or not (0),
     * and whether its SELECT aggregates (GROUP BY, or an aggregate in its list: only then may ORDER BY count(*)).
     */
    private int[] cases = new int[8], casts = new int[8], grouped = new int[8];
    /** Per parenthesis depth: the function it calls (null: none) and how many commas it has seen (its arguments - 1). */
    private String[] calls = new String[8];
    private int[] commas = new int[8];
    /**
     * The last lexeme was a table after FROM or JOIN, or its alias ({@link #AFTER_FROM_TABLE}); {@code followsFromTable}
     * is that for the lexeme being read. After COLLATE comes a collation, after CAST's AS a type.
     */
    private boolean afterFromTable, followsFromTable, asAfterFromTable, afterCollate, castAs;
    /** The last lexeme was "(": 1 count's, 2 another; {@code parenOf} is that for the lexeme being read. */
    private int parenBefore, parenOf;
    /** The last lexeme was an operator (else 0); and a "*" that stands for all columns, after which only "," ")" ";" or FROM come. */
    private char lastOp, opBefore;
    private boolean starAll, followsStar, operandBefore;
    /** Where the bare and qualified columns of the innermost SELECT start in {@link #bare} and {@link #qualified}. */
    private int selectStart, selectQualifiedStart;
    /** The tables that may follow the FROM just written: see {@link #fromTables}. Never changed once made. */
    private TreeSet<String> tableChoices;
    private boolean afterAs, expectTable, afterDot, valuePos, valueList;
    /** The text ends inside a string literal or a quoted name: it may go on, but not end there. */
    private boolean openQuote;
    /** The table due is the first after FROM of a SELECT whose list qualified no column (no join announced). */
    private boolean singleTableFrom;
    private boolean needParen;       // the last name was a function: "(" must come next
    private String pendingAlias;     // a T1-style name just written: "." must come next (a qualifier), unless it defines one
    private String qualifier, lastTable, lastName;
    /** Where the last name ended, in the whole text: a "." qualifies it only right there. */
    private int lastNameEnd = -1;
    /**
     * T-style aliases come in order, as Spider writes them: the first of a SELECT is T1 or one above the
     * largest of the query so far ("... EXCEPT SELECT T3.x FROM a AS T3"), each next one is one above the last.
     */
    private int maxAlias, lastAliasOfSelect;
    /** Parenthesis depth. */
    private int depth;
    /**
     * After LIMIT: 1 while its number is due, 2 after it (only the end, ")" or OFFSET may follow), 3 while OFFSET's
     * number is due, 4 after it (only the end or ")": "OFFSET 2 OFFSET 3" is no SQL).
     */
    private int limit;
    /**
     * The words one of which must come next (null: no such rule): BY after ORDER and GROUP ("FROM a, order b" was a
     * table to JSqlParser), JOIN (or OUTER) after LEFT, RIGHT, INNER, CROSS, NATURAL ("FROM t right" ended a query).
     */
    private TreeSet<String> needNext;
    private static final TreeSet<String> BY = new TreeSet<>(List.of("by")), JOIN = new TreeSet<>(List.of("join")),
            JOIN_OR_OUTER = new TreeSet<>(List.of("join", "outer")), SELECT = new TreeSet<>(List.of("select"));
    /** After these, ")" may follow "(" at once (date(), time(), datetime(): now); after other functions an argument must come. */
    private static final Set<String> NO_ARGUMENTS = Set.of("date", "time", "datetime");
    /**
     * The last lexeme ended an operand (a name, a number, a string, ")"): a function call may not follow it
     * ("SELECT Position lower(x)" was a column and something to JSqlParser, a syntax error to SQLite).
     */
    private boolean afterOperand;
    /** A column named like a function (count, date): a column unless "(" comes next, which calls the function. */
    private String functionColumn;

    SqlScanner(SchemaNames n) {
        this.n = n;
    }

    /** A scanner in this one's state, sharing its collections until either changes one (only the copy may: see the class). */
    SqlScanner copy() {
        SqlScanner c = new SqlScanner(n);
        c.owned = c.clauseOwned = false;
        c.aliases = aliases;
        c.tablesRead = tablesRead;
        c.qualified = qualified;
        c.bare = bare;
        c.aliasesOfSelect = aliasesOfSelect;
        c.whereColumns = whereColumns;
        c.clause = clause;
        c.cases = cases;
        c.casts = casts;
        c.grouped = grouped;
        c.calls = calls;
        c.commas = commas;
        c.afterFromTable = afterFromTable;
        c.followsFromTable = followsFromTable;
        c.asAfterFromTable = asAfterFromTable;
        c.afterCollate = afterCollate;
        c.castAs = castAs;
        c.parenBefore = parenBefore;
        c.parenOf = parenOf;
        c.lastOp = lastOp;
        c.starAll = starAll;
        c.followsStar = followsStar;
        c.operandBefore = operandBefore;
        c.selectStart = selectStart;
        c.selectQualifiedStart = selectQualifiedStart;
        c.tableChoices = tableChoices;
        c.afterAs = afterAs;
        c.expectTable = expectTable;
        c.afterDot = afterDot;
        c.valuePos = valuePos;
        c.valueList = valueList;
        c.openQuote = openQuote;
        c.singleTableFrom = singleTableFrom;
        c.needParen = needParen;
        c.pendingAlias = pendingAlias;
        c.qualifier = qualifier;
        c.lastTable = lastTable;
        c.lastName = lastName;
        c.lastNameEnd = lastNameEnd;
        c.maxAlias = maxAlias;
        c.lastAliasOfSelect = lastAliasOfSelect;
        c.depth = depth;
        c.limit = limit;
        c.needNext = needNext;
        c.afterOperand = afterOperand;
        c.functionColumn = functionColumn;
        c.opBefore = opBefore;
        return c;
    }

    /** Makes the collections this scanner's own before it changes one (a copy shares them with its original). */
    private void own() {
        if (owned) return;
        Map<String, Set<String>> a = new HashMap<>();
        for (Map.Entry<String, Set<String>> e : aliases.entrySet()) a.put(e.getKey(), new HashSet<>(e.getValue()));
        aliases = a;
        tablesRead = new HashSet<>(tablesRead);
        qualified = new ArrayList<>(qualified);
        bare = new ArrayList<>(bare);
        aliasesOfSelect = new HashSet<>(aliasesOfSelect);
        List<Set<String>> w = new ArrayList<>(whereColumns.size());
        for (Set<String> s : whereColumns) w.add(new HashSet<>(s));
        whereColumns = w;
        owned = true;
    }

    /** As {@link #own}, for the per-depth arrays alone ({@link #clause}, {@link #cases}, {@link #casts}): "(" and keywords change only them. */
    private void ownClause() {
        if (clauseOwned) return;
        clause = clause.clone();
        cases = cases.clone();
        casts = casts.clone();
        grouped = grouped.clone();
        calls = calls.clone();
        commas = commas.clone();
        clauseOwned = true;
    }

    /** Whether the text read so far ends inside a string literal or a quoted name. */
    boolean openQuote() {
        return openQuote;
    }

    /** Whether a table comes next (after FROM or JOIN). */
    boolean expectTable() {
        return expectTable;
    }

    /** Whether the table due is the first after FROM of a SELECT whose list announces no join. */
    boolean singleTableFrom() {
        return singleTableFrom;
    }

    /** The tables that may come after the FROM or JOIN just read. */
    Set<String> tableChoices() {
        return tableChoices;
    }

    /** Whether {@code sql}, read from the start by a fresh scanner, can still be the start of a query over the schema. */
    static boolean viable(String sql, SchemaNames names) {
        return new SqlScanner(names).run(sql, 0);
    }

    /**
     * Reads {@code text}, whose first character is at {@code base} in the whole text, to its end: false as soon as
     * the whole text can no longer become a query over the schema (a lexeme at the end is read as one that may
     * still go on). This scanner is left where the text ends.
     */
    boolean run(String text, int base) {
        for (int i = 0; i < text.length(); ) {
            i = lexeme(text, i, base);
            if (i < 0) return false;
        }
        return true;
    }

    /**
     * Where the lexeme that starts at {@code i} ends, as {@link #lexeme} reads it, without reading it: a string
     * literal (its closing quote, or the text's end), a quoted name, a word, a number, or one other character.
     */
    int lexemeEnd(String sql, int i) {
        int len = sql.length();
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' && valuePos) {
            int j = i + 1;
            while (true) {
                if (j >= len) return len;
                if (sql.charAt(j) == c) {
                    if (j + 1 < len && sql.charAt(j + 1) == c) j += 2;
                    else return j + 1;
                } else j++;
            }
        }
        if (c == '"' || c == '`' || c == '[') {
            int j = sql.indexOf(c == '[' ? ']' : c, i + 1);
            return j < 0 ? len : j + 1;
        }
        if (Character.isLetter(c) || c == '_') {
            int j = i;
            while (j < len && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) j++;
            return j;
        }
        if (Character.isDigit(c)) {
            int j = i;
            while (j < len && (Character.isDigit(sql.charAt(j)) || sql.charAt(j) == '.')) j++;
            return j;
        }
        return i + 1;
    }

    /**
     * Reads the lexeme that starts at {@code i} of {@code sql} (whose first character is at {@code base} in the
     * whole text): the index after it, or -1 if the text can no longer become a query. A lexeme that reaches the
     * end of the text (a word, a number, an open or just closed literal or quoted name) may still go on: it is
     * checked as the start of one, and the answer is {@code sql.length()} or -1.
     */
    int lexeme(String sql, int i, int base) {
        int len = sql.length();
        char c = sql.charAt(i);
        if (!isSpace(c)) {
            if (needParen && c != '(') return -1; // "SELECT count FROM": a function that is not called
            needParen = false;
            if (pendingAlias != null && c != '.') return -1; // "ON T1 =": an alias must qualify a column
            pendingAlias = null;
            if (needNext != null && !Character.isLetter(c)) return -1;
            if (functionColumn != null) {
                String column = functionColumn;
                functionColumn = null;
                if (c != '(' && !bareColumn(column)) return -1;
            }
            followsFromTable = afterFromTable;
            afterFromTable = false;
            parenOf = parenBefore;
            parenBefore = 0;
            followsStar = starAll;
            starAll = false;
            opBefore = lastOp;
            if (!(OPERATORS.indexOf(c) >= 0)) lastOp = 0;
            operandBefore = afterOperand;
            afterOperand = false;
            if (followsStar && !(c == ',' || c == ')' || c == ';' || Character.isLetter(c))) return -1; // "SELECT * name"
            // after a FROM table: only an alias, AS, a join or a clause (words), or "," ")" ";"
            if (followsFromTable && !(Character.isLetter(c) || c == '_' || c == ',' || c == ')' || c == ';')) return -1;
        }
        if (c == '\'' || c == '"' && valuePos) {
            // a string literal; Spider writes them in double quotes too (SQLite reads "x" as a string
            // where it is no name), so a double-quoted text right after a comparison is a value
            if (expectTable || afterDot || limit > 0 || lastTable != null || afterCollate || castAs) return -1; // no value right after a table
            char quote = c;
            int j = i + 1;
            StringBuilder value = n.question() == null ? null : new StringBuilder();
            boolean pattern = "like".equals(lastName) || "glob".equals(lastName); // "%" is a wildcard only here
            while (true) {
                if (j >= len) { // inside a string literal
                    openQuote = true;
                    return value == null || inQuestion(value, false, pattern) ? len : -1;
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
            if (value != null && !inQuestion(value, true, pattern)) return -1;
            afterAs = valuePos = false;
            lastTable = null;
            afterOperand = true;
            return j + 1;
        }
        if (c == '"' || c == '`' || c == '[') {
            if (limit > 0 || afterCollate || castAs) return -1;
            char close = c == '[' ? ']' : c;
            int j = sql.indexOf(close, i + 1);
            String w = sql.substring(i + 1, j < 0 ? len : j).toLowerCase(Locale.ROOT);
            if (j < 0) {
                openQuote = true;
                boolean may = afterAs || (expectTable ? startsSomeName(w, tableChoices) : startsSomeUnusedName(w, afterDot ? n.columns() : n.quoted()));
                return may ? len : -1;
            }
            if (!name(w, true)) return -1;
            lastNameEnd = base + j + 1;
            afterOperand = true;
            return j + 1;
        }
        if (Character.isLetter(c) || c == '_') {
            int j = i;
            while (j < len && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) j++;
            String w = sql.substring(i, j).toLowerCase(Locale.ROOT);
            if (!casedLikeTheSchema(sql.substring(i, j), w)) return -1;
            if (!fits(w, j < len)) return -1;
            if (j == len) return partial(w) ? len : -1;
            boolean definedByAs = afterAs, typeName = castAs, collation = afterCollate;
            String tableBefore = expectTable || afterDot ? null : lastTable;
            if (!name(w, false)) return -1;
            lastNameEnd = base + j;
            if (typeName || collation) return j; // CAST(x AS text), COLLATE nocase: no function, no alias
            boolean function = FUNCTIONS.contains(w) && !n.columns().contains(w);
            if (function && operandBefore) return -1;
            // a function is called; EXISTS and IN take a sub-query or a list ("x IN books.title" read a table)
            if (!function) afterOperand = !KEYWORDS.contains(w) || w.equals("null") || w.equals("true") || w.equals("false");
            if (function || w.equals("exists") || w.equals("in")) needParen = true;
            else if (isAlias(w, false) && !definedByAs) {
                if (clashes(w, tableBefore)) return -1;
                if (tableBefore != null) { // "singer T1"
                    if (!defineAlias(w)) return -1;
                    own();
                    aliases.computeIfAbsent(w, k -> new HashSet<>()).add(tableBefore);
                    afterFromTable = followsFromTable;
                } else pendingAlias = w;
            }
            return j;
        }
        if (Character.isDigit(c)) {
            if (expectTable || afterDot || limit == 2 || limit == 4 || afterCollate || castAs) return -1;
            // "ORDER BY 1995": a number there is a column's place in the result, which SQLite checks
            if ((clause[depth] == 4 || clause[depth] == 6) && ("by".equals(lastName) || opBefore == ',')) return -1;
            if (limit == 1 || limit == 3) limit++;
            int j = i;
            while (j < len && (Character.isDigit(sql.charAt(j)) || sql.charAt(j) == '.')) j++;
            // a number ends before a letter: "LIMIT 1WinsatshertType0.reconlert" is no number
            if (j < len && (Character.isLetter(sql.charAt(j)) || sql.charAt(j) == '_')) return -1;
            if ((limit == 2 || limit == 4) && sql.substring(i, j).indexOf('.') >= 0) return -1; // "LIMIT 1.5": a mismatch to SQLite
            String number = sql.substring(i, j);
            if (number.indexOf('.') != number.lastIndexOf('.')) return -1; // "2000..", "1.2.3"
            if (j < len && "\"`['".indexOf(sql.charAt(j)) >= 0) return -1; // "2000.`singer`"
            afterAs = valuePos = false;
            lastTable = null;
            afterOperand = true;
            return j;
        }
        if (c == '.') {
            // a qualifier: a table, or an alias (T1-style ones may be defined later in the query)
            if (lastNameEnd != base + i || lastName == null) return -1;
            String q = lastName;
            if (!n.tables().contains(q) && !aliases.containsKey(q) && !isAlias(q, false)) return -1;
            qualifier = q;
            afterDot = true;
            afterAs = false;
            expectTable = false;
            lastTable = null;
            return i + 1;
        }
        if (!isSpace(c) && (afterCollate || castAs)) return -1; // a collation or a type must come
        if (c == '(') {
            // an aggregate's call (also of a column named count: "count(" is the function to SQLite)
            if (lastName != null && AGGREGATES.contains(lastName) && !aggregatesMayCome()) return -1;
            ownClause();
            boolean cast = "cast".equals(lastName);
            if (++depth == clause.length) {
                clause = Arrays.copyOf(clause, 2 * depth);
                cases = Arrays.copyOf(cases, 2 * depth);
                casts = Arrays.copyOf(casts, 2 * depth);
                grouped = Arrays.copyOf(grouped, 2 * depth);
                calls = Arrays.copyOf(calls, 2 * depth);
                commas = Arrays.copyOf(commas, 2 * depth);
            }
            clause[depth] = 0;
            cases[depth] = 0;
            casts[depth] = cast ? 1 : 0;
            grouped[depth] = 0;
            calls[depth] = lastName != null && ARITY.containsKey(lastName) ? lastName : null;
            commas[depth] = 0;
            parenBefore = "count".equals(lastName) ? 1 : lastName != null && NO_ARGUMENTS.contains(lastName) ? 3 : 2;
            if ("exists".equals(lastName)) needNext = SELECT; // EXISTS takes a sub-query
        }
        if (c == ',' && calls[depth] != null) {
            ownClause();
            if (++commas[depth] >= ARITY.get(calls[depth])[1]) return -1; // one argument too many
        }
        if (c == ')' && calls[depth] != null && parenOf == 0 && commas[depth] + 1 < ARITY.get(calls[depth])[0]) return -1; // too few
        if (c == ')' && (cases[depth] > 0 || parenOf == 1 || parenOf == 2 || --depth < 0)) return -1; // END first; "()" takes nothing only for now()
        if (c == ')') afterOperand = true;
        if (!isSpace(c) && OPERATORS.indexOf(c) < 0) return -1; // "FROM t ?", a stray byte's U+FFFD, U+2000
        if (!isSpace(c)) {
            if (afterDot && (c != '*' || calls[depth] != null)) return -1; // "T1.*" only outside a call: "total(t.*)" is no SQL
            if (c == '*' && parenOf >= 2) return -1; // "(*)" is count's only: "min(*)" has the wrong number of arguments
            // all columns, not a product: after SELECT, DISTINCT, "(", "," or a qualifier's "."
            starAll = c == '*' && (afterDot || lastOp == ',' || lastOp == '(' || "select".equals(lastName) || "distinct".equals(lastName));
            if (c == '*' && !starAll && !operandBefore) return -1; // else a product: "WHERE *" is neither
            if (limit % 2 == 1 || limit > 0 && c != ')' && c != ';') return -1; // "LIMIT 1 AND", "LIMIT 1 LIMIT 1"
            limit = 0;
            afterAs = expectTable = afterDot = false;
            boolean inList = c == '(' && "in".equals(lastName) || c == ',' && valueList;
            valueList = inList;
            valuePos = c == '=' || c == '<' || c == '>' || c == '!' || inList;
            lastTable = null;
            lastName = null;
        }
        if (!isSpace(c)) lastOp = c;
        return i + 1;
    }

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
        // a word right after a digit or a qualifier's "." is no keyword (12order, T1.order); after a quote it is (`"Project"right`)
        if (start == end || start > 0 && (Character.isDigit(sql.charAt(start - 1)) || sql.charAt(start - 1) == '.')) return false;
        return NEEDS_MORE.contains(sql.substring(start, end).toLowerCase(Locale.ROOT));
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
        String q = n.question();
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

    /**
     * Whether bare word {@code w} may stand here, besides being a name ({@code whole}: it ends here; else it may
     * still become one that may): after a table of FROM or JOIN only {@link #AFTER_FROM_TABLE} or a T-style alias;
     * after COLLATE only a collation, after CAST's AS only a type; a type or collation name elsewhere only as a
     * name of the schema; WHEN, THEN, ELSE and END only inside a CASE.
     */
    private boolean fits(String w, boolean whole) {
        if (followsStar) return whole ? w.equals("from") : "from".startsWith(w);
        // a clause starts after an operand, not after an operator's word ("SELECT 42 GLOB FROM" read GLOB as an alias)
        if (whole && CLAUSES.contains(w) && lastName != null && OPERATOR_WORDS.contains(lastName)) return false;
        if (followsFromTable) return isAlias(w, !whole) || (whole ? AFTER_FROM_TABLE.contains(w) : startsSomeName(w, AFTER_FROM_TABLE));
        if (afterCollate) return whole ? COLLATIONS.contains(w) : startsSomeName(w, COLLATIONS);
        if (castAs) return whole ? TYPES.contains(w) : startsSomeName(w, TYPES);
        if (!whole) return true;
        if ((TYPES.contains(w) || COLLATIONS.contains(w)) && !n.quoted().contains(w)) return false;
        // ALL only in UNION ALL; OUTER only in LEFT or RIGHT OUTER JOIN; DISTINCT only after SELECT or an aggregate's "("
        if (w.equals("all")) return "union".equals(lastName);
        if (w.equals("outer")) return "left".equals(lastName) || "right".equals(lastName);
        // NATURAL JOIN and USING: columns by name, which SQLite checks in ways the constraint does not follow; WITH,
        // VALUES and ESCAPE: no answer needs them ("SELECT [department_id]values" was a column and an alias to JSqlParser)
        if (w.equals("natural") || w.equals("using") || w.equals("with") || w.equals("values") || w.equals("escape")) return false;
        if (w.equals("distinct")) return "select".equals(lastName) || parenOf == 1 || parenOf == 2;
        return !CASE_WORDS.contains(w) || cases[depth] > 0;
    }

    /** Records a bare column of this SELECT; false if a WHERE that tests each column once already has it. */
    private boolean bareColumn(String w) {
        if (inWhere() && !addWhereColumn(w)) return false;
        own();
        bare.add(w);
        return true;
    }

    /**
     * Whether an aggregate may stand here: where the innermost SELECT around (the nearest depth whose stage is past
     * "nothing yet") is in its list (it then aggregates), HAVING, or ORDER BY of a SELECT that aggregates; not in
     * FROM, ON, WHERE or GROUP BY, nor inside another aggregate's call ("misuse of aggregate" to SQLite).
     */
    private boolean aggregatesMayCome() {
        for (int d = depth; d >= 0; d--) {
            if (calls[d] != null && AGGREGATES.contains(calls[d])) return false; // "sum(total(*))": nested
            if (clause[d] == 0) continue;
            if (clause[d] == 1) { // in the SELECT list: the SELECT aggregates from here on
                ownClause();
                grouped[d] = 1;
            }
            return clause[d] == 1 || clause[d] == 5 || clause[d] >= 6 && grouped[d] == 1;
        }
        return true;
    }

    /** A whole name (bare or quoted) in the current position. */
    private boolean name(String w, boolean quotedName) {
        if (limit % 2 == 1 || limit == 4) return false;
        if (limit == 2) {
            if (quotedName || !AFTER_LIMIT.contains(w)) return false;
            limit = 3;
        }
        if (needNext != null) {
            if (quotedName || !needNext.contains(w)) return false;
            needNext = null;
        }
        lastName = null;
        valuePos = valueList = false;
        // a reserved word is a keyword or nothing: never a table, column or alias unless quoted
        if (!quotedName && RESERVED.contains(w) && (expectTable || afterDot || afterAs || !KEYWORDS.contains(w))) return false;
        if (castAs || afterCollate) { // checked by fits: a type or a collation, which names nothing
            castAs = afterCollate = false;
            lastTable = null;
            lastName = w;
            return true;
        }
        if (afterAs) {
            afterAs = false;
            if (clashes(w, lastTable)) return false;
            if (lastTable != null && !defineAlias(w)) return false; // "a AS T2 JOIN b AS T2", "a AS T2" first
            own();
            Set<String> to = aliases.computeIfAbsent(w, k -> new HashSet<>());
            if (lastTable != null) to.add(lastTable);
            afterFromTable = asAfterFromTable;
            lastTable = null;
            return true;
        }
        if (expectTable) {
            expectTable = false;
            if (!tableChoices.contains(w)) return false;
            own();
            tablesRead.add(w);
            lastTable = w;
            lastName = w;
            afterFromTable = true;
            return true;
        }
        if (afterDot) {
            afterDot = false;
            if (!n.columns().contains(w)) return false;
            if (inWhere() && !addWhereColumn(qualifier + "." + w)) return false;
            own();
            qualified.add(new String[] {qualifier, w});
            lastTable = null;
            return true;
        }
        // a function's name that is a column of the schema is that column (it is not called: see lexeme)
        boolean keyword = !quotedName && KEYWORDS.contains(w) && !(FUNCTIONS.contains(w) && n.columns().contains(w));
        if (keyword && CLAUSES.contains(w) && !clauseAllows(w)) return false;
        if (quotedName ? !n.quoted().contains(w) : !isAlias(w, false) && !n.known().contains(w) && !aliases.containsKey(w)) return false;
        if (w.equals("as") && !quotedName) {
            if (casts[depth] > 0) castAs = true; // CAST(x AS integer)
            else afterAs = true; // keeps lastTable: "singer AS T1" names T1 for singer
            asAfterFromTable = followsFromTable;
            return true;
        }
        if (keyword) {
            if (w.equals("collate")) afterCollate = true;
            if (w.equals("order") || w.equals("group")) needNext = BY;
            else if (w.equals("left") || w.equals("right")) needNext = JOIN_OR_OUTER;
            else if (w.equals("natural") || w.equals("inner") || w.equals("cross") || w.equals("outer")) needNext = JOIN;
            if (w.equals("case")) {
                ownClause();
                cases[depth]++;
            }
            if (w.equals("end")) {
                ownClause();
                cases[depth]--; // fits: only inside a CASE
            }
        }
        lastTable = null;
        if (!keyword && n.tables().contains(w)) {
            lastTable = w;
            // outside FROM and JOIN a table's name qualifies a column ("singer.name"); alone it is no value
            // (WHERE "table_1_10342194_3" = '(1.89%)'), unless a column has the same name (orchestra.Orchestra)
            if (!n.columns().contains(w)) pendingAlias = w;
        } else if (!keyword && !aliases.containsKey(w) && !isAlias(w, false) && n.columns().contains(w)) {
            if (!quotedName && FUNCTIONS.contains(w)) functionColumn = w; // decided by the next lexeme
            else if (!bareColumn(w)) return false;
        }
        if (!quotedName && w.equals("select")) {
            selectStart = bare.size();
            selectQualifiedStart = qualified.size();
            own();
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
        if (bare.size() == selectStart) return n.tables();
        TreeSet<String> out = new TreeSet<>();
        for (String t : n.tables()) {
            Set<String> cs = n.columnsOf().get(t);
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
        if (lastAliasOfSelect == 0) return n.tables();
        Set<String> cols = columnsQualifiedWith("t" + (lastAliasOfSelect + 1));
        if (cols.isEmpty()) return n.tables();
        TreeSet<String> out = new TreeSet<>();
        for (String t : n.tables()) if (n.columnsOf().get(t).containsAll(cols)) out.add(t);
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
            if (cols.isEmpty()) return n.tables();
            needs.add(cols);
        }
        TreeSet<String> out = new TreeSet<>();
        for (String t : n.tables()) {
            for (Set<String> need : needs) {
                if (n.columnsOf().get(t).containsAll(need)) {
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
        own();
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
        Set<String> cs = n.columnsOf().get(table);
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
        if (cases[depth] > 0) return false; // no clause inside a CASE
        int to = stageAfter(clause[depth], w);
        if (to < 0) return false;
        ownClause();
        clause[depth] = to;
        if (to == 1) grouped[depth] = 0; // a SELECT starts
        if (w.equals("group")) grouped[depth] = 1;
        if (to == 3 && n.oneConditionPerColumn()) {
            own();
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
        for (String name : n.quoted().subSet(lower, true, lower + Character.MAX_VALUE, true)) {
            for (String spelled : n.spellings().getOrDefault(name, Set.of())) if (casedLike(raw, spelled)) return true;
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
        if (limit % 2 == 1 || limit == 4) return false;
        if (limit == 2) return startsSomeName(w, AFTER_LIMIT);
        if (needNext != null) return startsSomeName(w, needNext);
        if (!afterAs && !expectTable && !afterDot && CLAUSES.contains(w) && stageAfter(clause[depth], w) < 0) {
            String longer = n.known().higher(w); // "order" may still become "order_id"
            return longer != null && longer.startsWith(w);
        }
        if (afterAs || lastTable != null && isAlias(w, false)) {
            // refused while written: an alias this SELECT already defined, one that contradicts its columns, or
            // a table's alias that is not T-style
            return !clashes(w, lastTable) && !(lastTable != null
                    && (aliasesOfSelect.contains(w) || !aliasMayBecomeNext(w)));
        }
        if (expectTable) return startsSomeName(w, tableChoices);
        if (afterDot) return startsSomeUnusedName(w, n.columns());
        return isAlias(w, true) || startsSomeUnusedName(w, n.known()) || aliases.keySet().stream().anyMatch(a -> a.startsWith(w));
    }

    /** Adds a column to this WHERE clause's ({@link #inWhere}); false if it was there already. */
    private boolean addWhereColumn(String column) {
        own();
        return whereColumns.get(depth).add(column);
    }

    /** Whether this position is in a WHERE clause whose columns must differ ({@link SchemaNames#oneConditionPerColumn}). */
    private boolean inWhere() {
        return n.oneConditionPerColumn() && clause[depth] == 3 && depth < whereColumns.size();
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
            boolean column = n.columns().contains(name) && !n.tables().contains(name);
            if (!column || !used.contains(afterDot ? qualifier + "." + name : name)) return true;
        }
        return false;
    }

    /**
     * The query reads a table; no function or T1-style alias is left hanging at the end; aliases are defined;
     * columns belong to the tables they are used with.
     */
    boolean consistent() {
        if (needParen || pendingAlias != null || needNext != null || tablesRead.isEmpty()) return false;
        for (String[] ref : qualified) {
            // a table's own name qualifies only if the query reads it ("Pets.pet_age FROM has_pet" reads no Pets)
            Set<String> tables = aliases.containsKey(ref[0]) ? aliases.get(ref[0])
                    : tablesRead.contains(ref[0]) ? Set.of(ref[0]) : null;
            if (tables == null) return false; // an alias never defined
            if (!tables.isEmpty() && tables.stream().noneMatch(t -> n.columnsOf().get(t).contains(ref[1]))) return false;
        }
        for (String col : bare) {
            if (tablesRead.stream().noneMatch(t -> n.columnsOf().get(t).contains(col))) return false;
        }
        if (functionColumn != null && tablesRead.stream().noneMatch(t -> n.columnsOf().get(t).contains(functionColumn))) return false;
        return true;
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
