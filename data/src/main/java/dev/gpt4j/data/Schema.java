package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A database schema: tables (columns, types, primary keys) and foreign keys. It comes from Spider's
 * {@code tables.json}, a WikiSQL table header, or {@code CREATE TABLE} DDL ({@link #fromDdl(String)}), and has two
 * renderings: {@link #compact()} for prompts, {@link #toDdl()} for people.
 */
public record Schema(String name, List<Table> tables, List<ForeignKey> foreignKeys) {
    public Schema {
        Objects.requireNonNull(name, "name");
        tables = List.copyOf(tables);
        foreignKeys = List.copyOf(foreignKeys);
        Set<String> seen = new HashSet<>();
        for (Table t : tables) {
            if (!seen.add(t.name().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("schema " + name + " has two tables named " + t.name());
            }
        }
    }

    /** Parses {@code CREATE TABLE} statements (other statements are skipped); see {@link DdlSchemas}. */
    public static Schema fromDdl(String ddl) {
        return DdlSchemas.parse(ddl, "DDL text", "schema");
    }

    /**
     * Foreign keys with a null referenced column ({@code REFERENCES t} alone) completed with {@code t}'s
     * single-column primary key; a reference that cannot be completed is handed to {@code unresolved}.
     */
    static List<ForeignKey> resolveReferences(List<Table> tables, List<ForeignKey> fks,
                                              java.util.function.Consumer<ForeignKey> unresolved) {
        List<ForeignKey> out = new ArrayList<>();
        for (ForeignKey fk : fks) {
            if (fk.refColumn() != null) {
                out.add(fk);
                continue;
            }
            Table ref = tables.stream().filter(t -> t.name().equalsIgnoreCase(fk.refTable())).findFirst().orElse(null);
            if (ref != null && ref.primaryKey().size() == 1) {
                out.add(new ForeignKey(fk.table(), fk.column(), fk.refTable(), ref.primaryKey().get(0)));
            } else {
                unresolved.accept(fk);
            }
        }
        return out;
    }

    /** The table of that name (case-insensitive), or null. */
    public Table table(String tableName) {
        for (Table t : tables) {
            if (t.name().equalsIgnoreCase(tableName)) {
                return t;
            }
        }
        return null;
    }

    /** Number of columns over all tables. */
    public int columnCount() {
        int n = 0;
        for (Table t : tables) {
            n += t.columns().size();
        }
        return n;
    }

    /** The schema with only the named tables (in this schema's order) and the foreign keys among them. */
    public Schema keep(Collection<String> tableNames) {
        Set<String> keep = new HashSet<>();
        for (String n : tableNames) {
            keep.add(n.toLowerCase(Locale.ROOT));
        }
        List<Table> kept = new ArrayList<>();
        for (Table t : tables) {
            if (keep.contains(t.name().toLowerCase(Locale.ROOT))) {
                kept.add(t);
            }
        }
        List<ForeignKey> fks = new ArrayList<>();
        for (ForeignKey fk : foreignKeys) {
            if (keep.contains(fk.table().toLowerCase(Locale.ROOT)) && keep.contains(fk.refTable().toLowerCase(Locale.ROOT))) {
                fks.add(fk);
            }
        }
        return new Schema(name, kept, fks);
    }

    /**
     * The prompt rendering, one line per table:
     * {@code concert(concert_id number pk, stadium_id number -> stadium.stadium_id)}. Names that SQL would need to
     * quote are quoted, so the model sees identifiers exactly as it must write them.
     */
    public String compact() {
        StringBuilder sb = new StringBuilder();
        for (Table t : tables) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(compact(t));
        }
        return sb.toString();
    }

    /** The prompt rendering of one table of this schema (with its outgoing foreign keys). */
    public String compact(Table t) {
        StringBuilder sb = new StringBuilder();
        sb.append(Identifiers.quoteIfNeeded(t.name())).append('(');
        for (int i = 0; i < t.columns().size(); i++) {
            Column c = t.columns().get(i);
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Identifiers.quoteIfNeeded(c.name()));
            if (!c.type().isEmpty()) {
                sb.append(' ').append(c.type());
            }
            if (t.isPrimaryKey(c.name())) {
                sb.append(" pk");
            }
            for (ForeignKey fk : foreignKeys) {
                if (fk.table().equalsIgnoreCase(t.name()) && fk.column().equalsIgnoreCase(c.name())) {
                    sb.append(" -> ").append(Identifiers.quoteIfNeeded(fk.refTable())).append('.')
                            .append(Identifiers.quoteIfNeeded(fk.refColumn()));
                }
            }
        }
        return sb.append(')').toString();
    }

    /** {@code CREATE TABLE} statements for people (and for {@link #fromDdl(String)}, which reads them back). */
    public String toDdl() {
        StringBuilder sb = new StringBuilder();
        for (Table t : tables) {
            sb.append("CREATE TABLE ").append(Identifiers.quoteIfNeeded(t.name())).append(" (\n");
            List<String> lines = new ArrayList<>();
            for (Column c : t.columns()) {
                lines.add("  " + Identifiers.quoteIfNeeded(c.name()) + (c.type().isEmpty() ? "" : " " + c.type()));
            }
            if (!t.primaryKey().isEmpty()) {
                lines.add("  PRIMARY KEY (" + joinQuoted(t.primaryKey()) + ")");
            }
            for (ForeignKey fk : foreignKeys) {
                if (fk.table().equalsIgnoreCase(t.name())) {
                    lines.add("  FOREIGN KEY (" + Identifiers.quoteIfNeeded(fk.column()) + ") REFERENCES "
                            + Identifiers.quoteIfNeeded(fk.refTable()) + " (" + Identifiers.quoteIfNeeded(fk.refColumn()) + ")");
                }
            }
            sb.append(String.join(",\n", lines)).append("\n);\n");
        }
        return sb.toString();
    }

    private static String joinQuoted(List<String> names) {
        List<String> q = new ArrayList<>();
        for (String n : names) {
            q.add(Identifiers.quoteIfNeeded(n));
        }
        return String.join(", ", q);
    }

    @Override
    public String toString() {
        return "Schema[" + name + ": " + tables.size() + " tables, " + columnCount() + " columns, "
                + foreignKeys.size() + " foreign keys]";
    }
}
