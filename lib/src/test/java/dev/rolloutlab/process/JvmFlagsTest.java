package dev.rolloutlab.process;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The flags that set a JVM's speed, read from a command line as a child JVM gets it, and from this JVM. */
class JvmFlagsTest {
    @Test
    void aChildsFlagsAreItsSpeedFlagsWithoutTheClasspathPropertiesOrProgramArguments() {
        List<String> cmd = ChildJvm.command(List.of("-Xmx512m"), "serve", List.of("--model", "-XX:+NotAFlag"));
        List<String> flags = JvmFlags.ofArguments(cmd.subList(1, cmd.size()));
        assertTrue(flags.containsAll(List.of("-Xmx512m", "-XX:+UseSerialGC")), flags.toString());
        assertTrue(flags.stream().noneMatch(f -> f.startsWith("-D") || f.contains("/")), "no properties, no paths");
        assertFalse(flags.contains("-XX:+NotAFlag"), "the program's own arguments are not the JVM's: " + flags);
        assertEquals(
                List.of("--add-modules=jdk.incubator.vector", "-XX:+UseG1GC"),
                JvmFlags.ofArguments(List.of(
                        "--add-modules", "jdk.incubator.vector", "-Dx=y", "-XX:+UseG1GC", "-cp", "a:b", "Main")));
    }

    @Test
    void thisJvmNamesItsCollectorEvenWhenItIsTheDefault() {
        assertEquals(
                1,
                JvmFlags.current().stream()
                        .filter(f -> f.matches("-XX:\\+Use\\w+GC"))
                        .count(),
                "one collector");
    }
}
