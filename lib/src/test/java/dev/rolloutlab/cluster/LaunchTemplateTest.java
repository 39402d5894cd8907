package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Template expansion and SSH quoting: what a request or an operator can make a template run. */
class LaunchTemplateTest {
    static final LaunchTemplate SERVE = LaunchTemplate.builtIns().get("rollout-lab-serve");
    static final LaunchTemplate MULTI = LaunchTemplate.builtIns().get("sglang-jax-multi-openai");

    @ParameterizedTest
    @ValueSource(
            strings = {
                "m; touch /tmp/x",
                "$(id)",
                "`id`",
                "a b",
                "m'q",
                "m\"q",
                "m\nq",
                "--help",
                "${java}",
                "a|b",
                "a&b",
                "~root"
            })
    void unsafeModelValuesAreRefused(String value) {
        var e = assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("model", value)));
        assertTrue(e.getMessage().startsWith("parameter model="), e.getMessage());
    }

    @Test
    void requestsSetOnlyWhatTheTemplateDeclaresSettable() {
        for (String op : List.of("java", "classpath", "host", "api_key_file")) {
            var e = assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of(op, "x")));
            assertTrue(e.getMessage().contains("set by the agent's operator"), e.getMessage());
        }
        var unknown = assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("extra", "1")));
        assertTrue(unknown.getMessage().contains("no parameter 'extra'"), unknown.getMessage());
        assertEquals(
                List.of("shape", "model", "num_servers", "base_port", "served_model_name", "backend_id_base"),
                SERVE.settable());
    }

    @Test
    void integersAndFlagsAreTypedAndRanged() {
        assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("num_servers", "100000")));
        assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("base_port", "80")));
        assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("num_servers", "4x")));
        assertThrows(
                IllegalArgumentException.class,
                () -> MULTI.expand(Map.of(), Map.of("model", "m", "enable_weight_reload", "--python=/bin/sh")));
        var on = MULTI.expand(Map.of(), Map.of("model", "m", "enable_weight_reload", "true"));
        assertTrue(on.argv().contains("--enable-weight-reload"), on.argv().toString());
        var off = MULTI.expand(Map.of(), Map.of("model", "m"));
        assertFalse(off.argv().contains("--enable-weight-reload"));
        assertFalse(
                off.argv().stream().anyMatch(a -> a.startsWith("--context-length")),
                "an empty optional flag is dropped: " + off.argv());
        assertEquals(List.of(31000, 31001, 31002, 31003), off.ports());
    }

    @Test
    void operatorValuesComeFirstAndDefaultsBindLoopback() {
        var ex = SERVE.expand(
                Map.of("host", "0.0.0.0", "api_key_file", "/keys/k"),
                Map.of("model", "/models/m", "num_servers", "2", "base_port", "32000"));
        assertTrue(
                ex.argv().contains("--host=0.0.0.0") && ex.argv().contains("--api-key-file=/keys/k"),
                ex.argv().toString());
        assertEquals(List.of(32000, 32001), ex.ports());
        var dflt = SERVE.expand(Map.of(), Map.of());
        assertTrue(dflt.argv().contains("--host=127.0.0.1"), dflt.argv().toString());
        assertFalse(dflt.argv().stream().anyMatch(a -> a.startsWith("--api-key")), "no key given: the flag is dropped");
    }

    @Test
    void theServersKeyGoesInAnOwnerOnlyFileNeverOnTheirCommandLine() throws IOException {
        Path dir = Files.createTempDirectory("key");
        Map<String, String> operator = new HashMap<>();
        assertTrue(SERVE.putApiKey(operator, "s3cret", dir));
        var ex = SERVE.expand(operator, Map.of());
        assertTrue(
                ex.argv().stream().noneMatch(a -> a.contains("s3cret")),
                ex.argv().toString());
        Path file = Path.of(operator.get("api_key_file"));
        assertEquals("s3cret", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"99984x999x9999999", "8192x128x262144", "16x1x258", "17x2x300"})
    void shapesPastTheirBoundsAreRefusedBeforeAnythingStarts(String shape) {
        var e = assertThrows(IllegalArgumentException.class, () -> SERVE.expand(Map.of(), Map.of("shape", shape)));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "plain",
                "with space",
                "it's",
                "$(id)",
                "`id`",
                "a\"b",
                "semi;colon",
                "new\nline",
                "",
                "*",
                "back\\slash"
            })
    void sshQuotingRoundTripsThroughAShell(String value) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "printf %s " + Ssh.quote(value)).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        assertEquals(value, out);
    }
}
