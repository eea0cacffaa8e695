package dev.gpt4j.data;

/**
 * A data file (or DDL text, or predictions file) that cannot be read: the message names the source, the place
 * in it (line or entry) and the field at fault.
 */
public final class DataFileException extends RuntimeException {
    private final String source;
    private final String place;

    public DataFileException(String source, String place, String message, Throwable cause) {
        super(source + (place == null || place.isEmpty() ? "" : ", " + place) + ": " + message, cause);
        this.source = source;
        this.place = place;
    }

    public DataFileException(String source, String place, String message) {
        this(source, place, message, null);
    }

    /** The file (or the name given to a text) at fault. */
    public String source() {
        return source;
    }

    /** Where in it, e.g. {@code line 12} or {@code entry 3 (db_id concert_singer)}; may be empty. */
    public String place() {
        return place;
    }
}
