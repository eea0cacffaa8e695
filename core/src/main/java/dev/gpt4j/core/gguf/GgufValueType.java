package dev.gpt4j.core.gguf;

/** The type of a GGUF metadata value, by the id a file stores, with the bytes one value takes (strings vary). */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    /** u64 byte length, then UTF-8 bytes (no terminator). */
    STRING(8, -1),
    /** u32 element type, u64 count, then the elements. */
    ARRAY(9, -1),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = values();

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    public int id() {
        return id;
    }

    /** Bytes of one value, or -1 for STRING and ARRAY, whose length is stored with them. */
    public int size() {
        return size;
    }

    /** Fewest bytes one value can take in a file (a string: its 8-byte length; an array: type and count). */
    int minBytes() {
        return this == STRING ? 8 : this == ARRAY ? 12 : size;
    }

    /** Whether the values are integers (the unsigned ones included). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with this id, or null if GGUF has none. */
    public static GgufValueType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }
}
