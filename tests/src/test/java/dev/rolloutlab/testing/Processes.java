package dev.rolloutlab.testing;

import dev.rolloutlab.process.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs Rollout Lab commands in child JVMs, with this JVM's classpath, exactly as {@code dev.rolloutlab.commands.Main}.
 */
public final class Processes {
    private Processes() {}

    public static ProcessBuilder builder(String... aliasAndArgs) {
        return new ProcessBuilder(
                ChildJvm.command(aliasAndArgs[0], List.of(aliasAndArgs).subList(1, aliasAndArgs.length)));
    }

    /** The finished process's exit code, stdout and stderr. */
    public record Run(int exit, String out, String err) {}

    public static Run run(long timeoutSec, String... aliasAndArgs) {
        return run(Map.of(), timeoutSec, aliasAndArgs);
    }

    /** As {@link #run(long, String...)}, with {@code env} added to the child's environment (and its children's). */
    public static Run run(Map<String, String> env, long timeoutSec, String... aliasAndArgs) {
        return run(List.of(), env, timeoutSec, aliasAndArgs);
    }

    /** As {@link #run(Map, long, String...)}, the command's own JVM started with {@code jvmFlags} added. */
    public static Run run(List<String> jvmFlags, Map<String, String> env, long timeoutSec, String... aliasAndArgs) {
        try {
            Path outF = Files.createTempFile("out", ".txt"), errF = Files.createTempFile("err", ".txt");
            List<String> args = List.of(aliasAndArgs).subList(1, aliasAndArgs.length);
            ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(jvmFlags, aliasAndArgs[0], args))
                    .redirectOutput(outF.toFile())
                    .redirectError(errF.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeoutSec + " s: " + String.join(" ", aliasAndArgs)
                        + "\nstderr: " + Files.readString(errF));
            }
            return new Run(p.exitValue(), Files.readString(outF), Files.readString(errF));
        } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
