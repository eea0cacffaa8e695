package dev.gpt4j.tokenizer;

import java.util.Arrays;

/**
 * Open-addressing map from a token pair (left id, right id) to its merge rank and the id of the merged
 * token. BPE looks pairs up in its inner loop, so this avoids boxing and hashing of {@code Long} keys.
 */
final class MergeTable {
    private static final long EMPTY = -1L;
    private final long[] keys;
    private final int[] ranks;
    private final int[] merged;
    private final int mask;
    private int size;

    MergeTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        Arrays.fill(keys, EMPTY);
        ranks = new int[cap];
        merged = new int[cap];
        mask = cap - 1;
    }

    static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h >>> 40) & mask;
        while (keys[i] != EMPTY && keys[i] != key) i = (i + 1) & mask;
        return i;
    }

    /** Adds a pair; returns false if it was already present. */
    boolean put(int left, int right, int rank, int mergedId) {
        long k = key(left, right);
        int i = slot(k);
        if (keys[i] == k) return false;
        keys[i] = k;
        ranks[i] = rank;
        merged[i] = mergedId;
        size++;
        return true;
    }

    /** The rank of the pair, or {@link Integer#MAX_VALUE} if the pair never merges. */
    int rank(int left, int right) {
        int i = slot(key(left, right));
        return keys[i] == EMPTY ? Integer.MAX_VALUE : ranks[i];
    }

    /** The merged token's id; only for pairs whose {@link #rank} is finite. */
    int merged(int left, int right) {
        return merged[slot(key(left, right))];
    }

    int size() {
        return size;
    }
}
