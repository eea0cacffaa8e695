package dev.gpt4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Field access on Jackson trees that fails with the file, place and field named. */
final class Json {
    /** Python's json module writes NaN and Infinity (WikiSQL's files contain them), so they are accepted. */
    static final ObjectMapper MAPPER = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private Json() {}

    static JsonNode field(JsonNode node, String field, String source, String place) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new DataFileException(source, place, "missing field \"" + field + "\"");
        }
        return v;
    }

    static String text(JsonNode node, String field, String source, String place) {
        JsonNode v = field(node, field, source, place);
        if (!v.isTextual()) {
            throw new DataFileException(source, place, "field \"" + field + "\" must be a string, got " + v.getNodeType());
        }
        return v.asText();
    }

    static int integer(JsonNode node, String field, String source, String place) {
        JsonNode v = field(node, field, source, place);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new DataFileException(source, place, "field \"" + field + "\" must be an integer, got " + v);
        }
        return v.asInt();
    }

    static JsonNode array(JsonNode node, String field, String source, String place) {
        JsonNode v = field(node, field, source, place);
        if (!v.isArray()) {
            throw new DataFileException(source, place, "field \"" + field + "\" must be an array, got " + v.getNodeType());
        }
        return v;
    }
}
