package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DdlSchemasTest {
    @Test
    void readsTablesTypesAndKeys() {
        Schema s = Schema.fromDdl(TestData.CONCERT_DDL);
        assertEquals(3, s.tables().size());
        Table concert = s.table("CONCERT");
        assertEquals(List.of(new Column("concert_id", "integer"), new Column("concert_name", "text"),
                new Column("stadium_id", "integer"), new Column("year", "integer")), concert.columns());
        assertEquals(List.of("concert_id"), concert.primaryKey());
        assertEquals(List.of(new ForeignKey("concert", "stadium_id", "stadium", "stadium_id")), s.foreignKeys());
        assertEquals("concert(concert_id integer pk, concert_name text, stadium_id integer -> stadium.stadium_id, year integer)",
                s.compact(concert));
    }

    @Test
    void readsQuotedIdentifiersTableConstraintsAndImplicitReferences() {
        String ddl = """
                -- a comment; with a semicolon
                CREATE TABLE "Order Lines" (
                  "line id" INTEGER,
                  `order` INT NOT NULL,
                  [unit price] DECIMAL(10, 2) DEFAULT 0,
                  PRIMARY KEY ("line id", `order`),
                  CONSTRAINT fk_o FOREIGN KEY (`order`) REFERENCES orders (id)
                );
                CREATE INDEX idx ON "Order Lines" (`order`);
                create table orders (id integer primary key, parent int references orders);
                INSERT INTO orders VALUES (1, NULL);
                """;
        Schema s = DdlSchemas.parse(ddl, "shop.sql", "shop");
        Table lines = s.table("order lines");
        assertEquals(List.of("line id", "order", "unit price"), lines.columns().stream().map(Column::name).toList());
        assertEquals("decimal(10, 2)", lines.column("unit price").type());
        assertEquals(List.of("line id", "order"), lines.primaryKey());
        assertEquals(List.of(new ForeignKey("Order Lines", "order", "orders", "id"),
                new ForeignKey("orders", "parent", "orders", "id")), s.foreignKeys());
        assertEquals("\"Order Lines\"(\"line id\" integer pk, \"order\" int pk -> orders.id, \"unit price\" decimal(10, 2))",
                s.compact(lines));
    }

    @Test
    void ddlRenderingReadsBackToTheSameSchema() {
        Schema s = DdlSchemas.parse(TestData.CONCERT_DDL + "CREATE TABLE \"a b\" (\"c\"\"d\" text, x int, PRIMARY KEY (x));",
                "t", "t");
        Schema back = DdlSchemas.parse(s.toDdl(), "rendered", "t");
        assertEquals(s, back);
    }

    @Test
    void errorsNameTheSourceAndLine(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.sql");
        Files.writeString(f, "CREATE TABLE a (x int);\n\nCREATE TABLE b (x int,, y);\n");
        DataFileException e = assertThrows(DataFileException.class, () -> DdlSchemas.read(f));
        assertTrue(e.getMessage().startsWith(f + ", line 3: cannot parse CREATE TABLE"), e.getMessage());

        Files.writeString(f, "CREATE TABLE a (x int);\nCREATE TABLE A (y int);\n");
        e = assertThrows(DataFileException.class, () -> DdlSchemas.read(f));
        assertEquals(f + ", line 2: table A is defined twice", e.getMessage());

        Files.writeString(f, "CREATE TABLE a (x int, PRIMARY KEY (z));\n");
        e = assertThrows(DataFileException.class, () -> DdlSchemas.read(f));
        assertEquals(f + ", line 1: primary key column z is not a column of a", e.getMessage());

        Files.writeString(f, "-- only a comment\nSELECT 1;\n");
        e = assertThrows(DataFileException.class, () -> DdlSchemas.read(f));
        assertEquals(f + ": no CREATE TABLE statement found", e.getMessage());
    }

    @Test
    void keepsOnlyNamedTablesAndTheirKeys() {
        Schema s = Schema.fromDdl(TestData.CONCERT_DDL);
        Schema kept = s.keep(List.of("concert", "singer"));
        assertEquals(List.of("singer", "concert"), kept.tables().stream().map(Table::name).toList());
        assertTrue(kept.foreignKeys().isEmpty());
    }
}
