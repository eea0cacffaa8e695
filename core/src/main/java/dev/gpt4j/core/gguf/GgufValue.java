package dev.gpt4j.core.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value with its exact type, so that a file read and written again keeps every type (llama.cpp
 * refuses a key of the wrong type, e.g. {@code gpt2.context_length} as INT32 instead of UINT32).
 *
 * <p>Held as: integers of every width as {@link Long} (UINT64 as its raw bits), FLOAT32 as {@link Float}, FLOAT64 as
 * {@link Double}, BOOL as {@link Boolean}, STRING as {@link String}; arrays of integers as {@code long[]}, of FLOAT32
 * as {@code float[]}, of FLOAT64 as {@code double[]}, of BOOL as {@code boolean[]}, of STRING as an unmodifiable
 * {@code List<String>}. Arrays of arrays do not exist in GGUF files llama.cpp reads, so they are not represented.
 *
 * @param type        the value's type
 * @param elementType for an ARRAY, its elements' type; otherwise null
 * @param value       the value, as above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("an element type is given for arrays and only for arrays");
        }
        if (elementType == GgufValueType.ARRAY) throw new IllegalArgumentException("arrays of arrays are not supported");
        if (type == GgufValueType.ARRAY && elementType == GgufValueType.STRING) value = List.copyOf(castList(value));
        Class<?> expected = holder(type == GgufValueType.ARRAY ? elementType : type, type == GgufValueType.ARRAY);
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException("a " + (elementType == null ? type : "ARRAY of " + elementType) + " value is held as "
                    + expected.getSimpleName() + ", not " + value.getClass().getSimpleName());
        }
    }

    /** The Java class that holds a value (or, for arrays, the array) of this type. */
    private static Class<?> holder(GgufValueType t, boolean array) {
        return switch (t) {
            case FLOAT32 -> array ? float[].class : Float.class;
            case FLOAT64 -> array ? double[].class : Double.class;
            case BOOL -> array ? boolean[].class : Boolean.class;
            case STRING -> array ? List.class : String.class;
            default -> array ? long[].class : Long.class;
        };
    }

    // ---------------------------------------------------------------------------------------------- scalars

    public static GgufValue u8(int v) {
        return integer(GgufValueType.UINT8, v);
    }

    public static GgufValue i8(int v) {
        return integer(GgufValueType.INT8, v);
    }

    public static GgufValue u16(int v) {
        return integer(GgufValueType.UINT16, v);
    }

    public static GgufValue i16(int v) {
        return integer(GgufValueType.INT16, v);
    }

    public static GgufValue u32(long v) {
        return integer(GgufValueType.UINT32, v);
    }

    public static GgufValue i32(int v) {
        return integer(GgufValueType.INT32, v);
    }

    /** An unsigned 64-bit value given by its bits (values above 2^63 - 1 are negative longs). */
    public static GgufValue u64(long bits) {
        return integer(GgufValueType.UINT64, bits);
    }

    public static GgufValue i64(long v) {
        return integer(GgufValueType.INT64, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue f64(double v) {
        return new GgufValue(GgufValueType.FLOAT64, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufValueType.STRING, null, Objects.requireNonNull(v, "string"));
    }

    /** An integer scalar of the given type; throws if {@code v} is outside the type's range. */
    public static GgufValue integer(GgufValueType type, long v) {
        checkRange(type, v);
        return new GgufValue(type, null, v);
    }

    // ---------------------------------------------------------------------------------------------- arrays

    /** An array of integers of the given element type (each checked against its range). */
    public static GgufValue array(GgufValueType elementType, long... values) {
        for (long v : values) checkRange(elementType, v);
        return new GgufValue(GgufValueType.ARRAY, elementType, values.clone());
    }

    /** An INT32 array (token types, for example). */
    public static GgufValue i32Array(int... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, Arrays.stream(values).asLongStream().toArray());
    }

    public static GgufValue f32Array(float... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, values.clone());
    }

    public static GgufValue f64Array(double... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT64, values.clone());
    }

    public static GgufValue boolArray(boolean... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, values.clone());
    }

    public static GgufValue stringArray(List<String> values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, values);
    }

    private static void checkRange(GgufValueType type, long v) {
        boolean ok = switch (type) {
            case UINT8 -> v >= 0 && v <= 0xFF;
            case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
            case UINT16 -> v >= 0 && v <= 0xFFFF;
            case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
            case UINT32 -> v >= 0 && v <= 0xFFFF_FFFFL;
            case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
            case UINT64, INT64 -> true;
            default -> throw new IllegalArgumentException(type + " is not an integer type");
        };
        if (!ok) throw new IllegalArgumentException(v + " is out of range for " + type);
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object v) {
        if (!(v instanceof List<?> l)) throw new IllegalArgumentException("a string array is held as a List<String>");
        for (Object o : l) if (!(o instanceof String)) throw new IllegalArgumentException("a string array holds only strings, not " + o);
        return (List<String>) l;
    }

    // ---------------------------------------------------------------------------------------------- reading

    /** The type as errors name it: "UINT32", "ARRAY of STRING". */
    public String typeName() {
        return type == GgufValueType.ARRAY ? "ARRAY of " + elementType : type.name();
    }

    public String asString() {
        return (String) expect(GgufValueType.STRING, null);
    }

    public boolean asBool() {
        return (Boolean) expect(GgufValueType.BOOL, null);
    }

    public float asFloat32() {
        return (Float) expect(GgufValueType.FLOAT32, null);
    }

    /** A FLOAT32 or FLOAT64 value. */
    public double asDouble() {
        if (type == GgufValueType.FLOAT32) return (Float) value;
        return (Double) expect(GgufValueType.FLOAT64, null);
    }

    /** The raw value of an integer scalar of any width (UINT64 as its bits). */
    public long asLong() {
        if (!type.isInteger()) throw new IllegalStateException("is " + typeName() + ", not an integer");
        return (Long) value;
    }

    /** An integer scalar of any width that fits an int. */
    public int asInt() {
        long v = asLong();
        if (type == GgufValueType.UINT64 && v < 0 || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalStateException("value " + Long.toUnsignedString(v) + " does not fit a Java int");
        }
        return (int) v;
    }

    @SuppressWarnings("unchecked")
    public List<String> asStringList() {
        return (List<String>) expect(GgufValueType.ARRAY, GgufValueType.STRING);
    }

    /** An integer array of any width, raw values (a copy). */
    public long[] asLongs() {
        if (type != GgufValueType.ARRAY || !elementType.isInteger()) {
            throw new IllegalStateException("is " + typeName() + ", not an array of integers");
        }
        return ((long[]) value).clone();
    }

    /** An integer array of any width whose values all fit an int (a copy). */
    public int[] asInts() {
        long[] l = asLongs();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (elementType == GgufValueType.UINT64 && l[i] < 0 || l[i] < Integer.MIN_VALUE || l[i] > Integer.MAX_VALUE) {
                throw new IllegalStateException("element " + i + " = " + Long.toUnsignedString(l[i]) + " does not fit a Java int");
            }
            out[i] = (int) l[i];
        }
        return out;
    }

    public float[] asFloats() {
        return ((float[]) expect(GgufValueType.ARRAY, GgufValueType.FLOAT32)).clone();
    }

    public double[] asDoubles() {
        return ((double[]) expect(GgufValueType.ARRAY, GgufValueType.FLOAT64)).clone();
    }

    public boolean[] asBools() {
        return ((boolean[]) expect(GgufValueType.ARRAY, GgufValueType.BOOL)).clone();
    }

    /** Number of elements of an array (1 for a scalar). */
    public int length() {
        if (type != GgufValueType.ARRAY) return 1;
        if (value instanceof List<?> l) return l.size();
        return java.lang.reflect.Array.getLength(value);
    }

    private Object expect(GgufValueType t, GgufValueType element) {
        if (type != t || elementType != element) {
            throw new IllegalStateException("is " + typeName() + ", not " + (element == null ? t.name() : "ARRAY of " + element));
        }
        return value;
    }

    // ---------------------------------------------------------------------------------------------- identity

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && v.type == type && v.elementType == elementType
                && Arrays.deepEquals(new Object[] {value}, new Object[] {v.value});
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) {
            return typeName() + " " + (type == GgufValueType.UINT64 ? Long.toUnsignedString((Long) value) : value);
        }
        return typeName() + " [" + length() + "]";
    }
}
