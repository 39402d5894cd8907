package dev.rolloutlab.util;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * The JSON (and YAML) mappers outside the engine: {@link #MAPPER} is snake_case on the wire (records keep camelCase),
 * nulls omitted, unknown fields ignored; {@link #YAML} reads operator files (inventories, templates) as trees.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

    /** Inventories and template files; read as trees, so no naming strategy applies. */
    public static final ObjectMapper YAML = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());

    /** CSV written from records: snake_case headers, numbers to 4 decimals, NaN as an empty cell. */
    private static final com.fasterxml.jackson.dataformat.csv.CsvMapper CSV = csvMapper();

    private static com.fasterxml.jackson.dataformat.csv.CsvMapper csvMapper() {
        var m = new com.fasterxml.jackson.dataformat.csv.CsvMapper();
        m.enable(
                com.fasterxml.jackson.dataformat.csv.CsvGenerator.Feature
                        .STRICT_CHECK_FOR_QUOTING); // quote only what needs it
        m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        // four decimals; figures below 0.01 (a KL per token, a logprob gap) keep four significant digits instead
        var fourDecimals = new com.fasterxml.jackson.databind.ser.std.StdSerializer<Double>(Double.class) {
            @Override
            public void serialize(
                    Double v,
                    com.fasterxml.jackson.core.JsonGenerator gen,
                    com.fasterxml.jackson.databind.SerializerProvider p)
                    throws IOException {
                if (v == null || v.isNaN() || v.isInfinite()) gen.writeNull();
                else if (v != 0 && Math.abs(v) < 0.01) gen.writeNumber(String.format(Locale.ROOT, "%.4e", v));
                else gen.writeNumber(String.format(Locale.ROOT, "%.4f", v));
            }
        };
        m.registerModule(new com.fasterxml.jackson.databind.module.SimpleModule()
                .addSerializer(Double.class, fourDecimals)
                .addSerializer(double.class, fourDecimals));
        return m;
    }

    /** Rows of one record type as CSV text with a header; columns follow the record's component order. */
    public static <T> String csv(Class<T> type, List<T> rows) {
        var schema = CSV.schemaFor(type).withHeader();
        var ordered = com.fasterxml.jackson.dataformat.csv.CsvSchema.builder().setUseHeader(true);
        for (var c : type.getRecordComponents())
            ordered.addColumn(schema.column(((PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE)
                    .translate(c.getName())));
        try {
            return CSV.writer(ordered.build()).writeValueAsString(rows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Json() {}

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode parse(String text) throws com.fasterxml.jackson.core.JsonProcessingException {
        return MAPPER.readTree(text);
    }

    public static <T> T read(String text, Class<T> type) throws IOException {
        return MAPPER.readValue(text, type);
    }

    /** Writes a file atomically: a reader sees the old content or the new, never half of it. */
    public static void writeFile(Path file, Object value) {
        try {
            writeText(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void writeText(Path file, String text) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
