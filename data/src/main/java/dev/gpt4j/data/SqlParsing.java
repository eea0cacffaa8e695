package dev.gpt4j.data;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * JSqlParser with one shared pool of daemon threads. JSqlParser runs each parse on an executor so that it can
 * time out (generated SQL is untrusted, and some inputs make the parser slow); by default it makes a new
 * executor per call, which made parsing about 1.6x slower than with a shared one (SqlParseBenchmark, on
 * Spider's train gold queries; BENCHMARKS.md). Public for the text-to-SQL module, whose constraint resolves a
 * query's names on the tree the guard parsed.
 */
public final class SqlParsing {
    private SqlParsing() {}

    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gpt4j-sql-parser");
        t.setDaemon(true);
        return t;
    });

    /** Parses one statement; {@code [x]} is read as a quoted identifier (SQLite and SQL Server style). */
    public static Statement parse(String sql) throws JSQLParserException {
        return CCJSqlParserUtil.parse(sql, POOL, p -> p.withSquareBracketQuotation(true));
    }

    /** The first line of the innermost cause's message: JSqlParser's errors add pages of expected tokens. */
    static String firstLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
