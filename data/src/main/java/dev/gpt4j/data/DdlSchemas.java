package dev.gpt4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.create.table.ColumnDefinition;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.create.table.ForeignKeyIndex;
import net.sf.jsqlparser.statement.create.table.Index;

/**
 * Reads a {@link Schema} from {@code CREATE TABLE} DDL with JSqlParser: several tables, column types, primary
 * keys (column or table constraint), foreign keys (column {@code REFERENCES} or table {@code FOREIGN KEY}), and
 * quoted identifiers ({@code "x"}, {@code `x`}, {@code [x]}). Other statements (indexes, views, inserts) are
 * skipped. This is how users give the assistant their own databases.
 */
public final class DdlSchemas {
    private DdlSchemas() {}

    private static final String NAME = "(\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\\[[^\\]]*\\]|[\\p{L}_][\\p{L}\\p{N}_$]*)";
    private static final Pattern REFERENCES = Pattern.compile(
            "(?i)^REFERENCES\\s+" + NAME + "(?:\\s*\\.\\s*" + NAME + ")?\\s*(?:\\(\\s*" + NAME + "\\s*\\))?");

    /** Reads the DDL file; the schema is named after the file (without extension). */
    public static Schema read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataFileException(file.toString(), "", "cannot read schema file: " + e.getMessage(), e);
        }
        String name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        return parse(text, file.toString(), name);
    }

    /**
     * Parses the {@code CREATE TABLE} statements of {@code ddl}. {@code source} names the text in errors (a file
     * name); errors give the line where the bad statement starts.
     */
    public static Schema parse(String ddl, String source, String schemaName) {
        List<Table> tables = new ArrayList<>();
        List<ForeignKey> fks = new ArrayList<>();
        int cursor = 0;
        for (String stmt : SqlText.statements(ddl)) {
            int at = ddl.indexOf(stmt, cursor);
            cursor = at < 0 ? cursor : at + stmt.length();
            String place = "line " + lineOf(ddl, Math.max(at, 0));
            String words = SqlText.withoutComments(stmt).strip().toUpperCase(Locale.ROOT);
            if (!words.matches("(?s)CREATE\\s+(TEMP\\s+|TEMPORARY\\s+|VIRTUAL\\s+)?TABLE\\b.*")) {
                continue;
            }
            if (words.matches("(?s)CREATE\\s+VIRTUAL\\b.*")) {
                continue;
            }
            Statement parsed;
            try {
                parsed = SqlParsing.parse(stmt);
            } catch (JSQLParserException e) {
                throw new DataFileException(source, place, "cannot parse CREATE TABLE: " + SqlParsing.firstLine(e), e);
            }
            if (!(parsed instanceof CreateTable ct)) {
                throw new DataFileException(source, place, "expected CREATE TABLE, parsed " + parsed.getClass().getSimpleName());
            }
            if (ct.getColumnDefinitions() == null || ct.getColumnDefinitions().isEmpty()) {
                throw new DataFileException(source, place, "CREATE TABLE " + ct.getTable().getName()
                        + " has no column definitions (CREATE TABLE ... AS SELECT is not supported)");
            }
            String table = Identifiers.unquote(ct.getTable().getName());
            if (tables.stream().anyMatch(t -> t.name().equalsIgnoreCase(table))) {
                throw new DataFileException(source, place, "table " + table + " is defined twice");
            }
            List<Column> columns = new ArrayList<>();
            List<String> pk = new ArrayList<>();
            for (ColumnDefinition cd : ct.getColumnDefinitions()) {
                String col = Identifiers.unquote(cd.getColumnName());
                String type = cd.getColDataType() == null ? "" : cd.getColDataType().toString().replaceAll("\\s+\\(", "(");
                columns.add(new Column(col, type));
                List<String> specs = cd.getColumnSpecs() == null ? List.of() : cd.getColumnSpecs();
                for (int i = 0; i < specs.size(); i++) {
                    String s = specs.get(i);
                    if (s.equalsIgnoreCase("PRIMARY") && i + 1 < specs.size() && specs.get(i + 1).equalsIgnoreCase("KEY")) {
                        pk.add(col);
                    }
                    Matcher m = REFERENCES.matcher(s.strip());
                    if (s.regionMatches(true, 0, "REFERENCES", 0, 10)) {
                        if (!m.find()) {
                            throw new DataFileException(source, place, "cannot read the reference of column " + col + ": " + s);
                        }
                        String refTable = Identifiers.unquote(m.group(2) != null ? m.group(2) : m.group(1));
                        String refCol = m.group(3) == null ? null : Identifiers.unquote(m.group(3));
                        fks.add(new ForeignKey(table, col, refTable, refCol));
                    }
                }
            }
            if (ct.getIndexes() != null) {
                for (Index idx : ct.getIndexes()) {
                    List<String> cols = new ArrayList<>();
                    for (String c : idx.getColumnsNames()) {
                        cols.add(Identifiers.unquote(c));
                    }
                    if (idx instanceof ForeignKeyIndex fk) {
                        String refTable = Identifiers.unquote(fk.getTable().getName());
                        List<String> refCols = fk.getReferencedColumnNames() == null ? List.of() : fk.getReferencedColumnNames();
                        for (int i = 0; i < cols.size(); i++) {
                            String refCol = i < refCols.size() ? Identifiers.unquote(refCols.get(i)) : null;
                            fks.add(new ForeignKey(table, cols.get(i), refTable, refCol));
                        }
                    } else if (idx.getType() != null && idx.getType().toUpperCase(Locale.ROOT).startsWith("PRIMARY")) {
                        pk.addAll(cols);
                    }
                }
            }
            Table t = new Table(table, columns, pk);
            for (String k : pk) {
                if (t.column(k) == null) {
                    throw new DataFileException(source, place, "primary key column " + k + " is not a column of " + table);
                }
            }
            tables.add(t);
        }
        if (tables.isEmpty()) {
            throw new DataFileException(source, "", "no CREATE TABLE statement found");
        }
        // A reference without a column means the referenced table's primary key.
        List<ForeignKey> resolved = Schema.resolveReferences(tables, fks, fk -> {
            throw new DataFileException(source, "table " + fk.table(), "column " + fk.column() + " references "
                    + fk.refTable() + " without naming a column, and " + fk.refTable() + " has no single-column primary key");
        });
        return new Schema(schemaName, tables, resolved);
    }

    static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
