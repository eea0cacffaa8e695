package dev.gpt4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Set;

/**
 * JSON in and out, with the checks of a public endpoint: a bounded body, one JSON object, fields of the right type,
 * and a 400 naming the field at fault. The service writes its own JSON (not through the host application's mapper),
 * so that it behaves the same when embedded.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** {@code {"error": message}}: every error of the {@code /api} endpoints. */
    static String error(String message) {
        ObjectNode o = object();
        o.put("error", ApiException.oneLine(message));
        return write(o);
    }

    /**
     * Reads at most {@code maxBytes} of a request body (413 past that, whatever Content-Length said) and parses it as
     * one JSON object (400 otherwise, with the parser's reason on one line).
     */
    static ObjectNode readObject(InputStream in, long declaredLength, int maxBytes) {
        if (declaredLength > maxBytes) throw tooLarge(maxBytes);
        byte[] body;
        try {
            body = readAtMost(in, maxBytes);
        } catch (IOException e) {
            throw new ApiException(400, "could not read the request body: " + e.getMessage());
        }
        if (body.length == 0) throw new ApiException(400, "the request body is empty: send a JSON object");
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiException(400, "malformed JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) throw new ApiException(400, "the body must be a JSON object");
        return (ObjectNode) n;
    }

    private static ApiException tooLarge(int maxBytes) {
        return new ApiException(413, "the request body is larger than the limit of " + maxBytes + " bytes");
    }

    private static byte[] readAtMost(InputStream in, int maxBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() + n > maxBytes) throw tooLarge(maxBytes);
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** 400 for a field not in {@code known}: a misspelt field would otherwise be silently ignored. */
    static void onlyFields(ObjectNode o, Set<String> known) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) throw new ApiException(400, "unknown field '" + f + "' (expected " + String.join(", ", known) + ")");
        }
    }

    /** A string field; null if absent or JSON null. */
    static String string(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new ApiException(400, field + " must be a string");
        return n.asText();
    }

    static Boolean bool(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isBoolean()) throw new ApiException(400, field + " must be true or false");
        return n.asBoolean();
    }

    static Long integer(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw new ApiException(400, field + " must be an integer");
        return n.asLong();
    }

    static Double number(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw new ApiException(400, field + " must be a number");
        return n.asDouble();
    }
}
