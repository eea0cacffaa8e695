package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultMatchTest {
    private static QueryResult r(List<String> cols, Object[]... rows) {
        return new QueryResult(cols, Arrays.stream(rows).map(Arrays::asList).toList(), false, 0);
    }

    private static final List<String> AB = List.of("a", "b");

    @Test
    void rowsAreAMultisetUnlessOrdered() {
        QueryResult g = r(AB, new Object[] {1L, "x"}, new Object[] {2L, "y"});
        QueryResult p = r(AB, new Object[] {2L, "y"}, new Object[] {1L, "x"});
        assertTrue(ResultMatch.same(g, p, false));
        assertFalse(ResultMatch.same(g, p, true));
        assertTrue(ResultMatch.same(g, g, true));
    }

    @Test
    void duplicatesCount() {
        QueryResult g = r(List.of("a"), new Object[] {1L}, new Object[] {1L}, new Object[] {2L});
        QueryResult p = r(List.of("a"), new Object[] {1L}, new Object[] {2L}, new Object[] {2L});
        assertFalse(ResultMatch.same(g, p, false));
    }

    @Test
    void columnsMayComeInAnotherOrder() {
        QueryResult g = r(AB, new Object[] {1L, "x"}, new Object[] {2L, "y"});
        QueryResult p = r(List.of("b", "a"), new Object[] {"y", 2L}, new Object[] {"x", 1L});
        assertTrue(ResultMatch.same(g, p, false));
        QueryResult crossed = r(List.of("b", "a"), new Object[] {"y", 1L}, new Object[] {"x", 2L});
        assertFalse(ResultMatch.same(g, crossed, false));
    }

    @Test
    void numbersCompareByValueTextByCharactersNullsEqual() {
        assertTrue(ResultMatch.same(r(List.of("a"), new Object[] {1L}), r(List.of("a"), new Object[] {1.0}), false));
        assertFalse(ResultMatch.same(r(List.of("a"), new Object[] {"1"}), r(List.of("a"), new Object[] {1L}), false));
        assertFalse(ResultMatch.same(r(List.of("a"), new Object[] {"France"}), r(List.of("a"), new Object[] {"france"}), false));
        assertTrue(ResultMatch.same(r(List.of("a"), new Object[] {null}), r(List.of("a"), new Object[] {null}), false));
        assertFalse(ResultMatch.same(r(List.of("a"), new Object[] {null}), r(List.of("a"), new Object[] {0L}), false));
    }

    @Test
    void shapeMustMatch() {
        assertFalse(ResultMatch.same(r(AB, new Object[] {1L, 2L}), r(List.of("a"), new Object[] {1L}), false));
        assertFalse(ResultMatch.same(r(List.of("a"), new Object[] {1L}), r(List.of("a")), false));
    }
}
