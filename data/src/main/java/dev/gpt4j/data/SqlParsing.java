package dev.gpt4j.data;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * JSqlParser with one shared pool of daemon threads. JSqlParser runs each parse on an executor so that it can
 * time out (generated SQL is untrusted, and some inputs make the parser slow); by default it makes a new
 * executor per call, which made parsing 2-4x slower than with a shared one (measured on Spider's gold queries).
 */
final class SqlParsing {
    private SqlParsing() {}

    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gpt4j-sql-parser");
        t.setDaemon(true);
        return t;
    });

    /** Parses one statement; {@code [x]} is read as a quoted identifier (SQLite and SQL Server style). */
    static Statement parse(String sql) throws JSQLParserException {
        return CCJSqlParserUtil.parse(sql, POOL, p -> p.withSquareBracketQuotation(true));
    }
}
