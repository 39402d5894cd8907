package dev.rolloutlab.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Rollout Lab commands in child JVMs, with this JVM's classpath, exactly as {@code dev.rolloutlab.cli.Main}. */
public final class Processes {
    private Processes() {
    }

    public static ProcessBuilder builder(String... aliasAndArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.rolloutlab.cli.Main");
        cmd.addAll(List.of(aliasAndArgs));
        return new ProcessBuilder(cmd);
    }

    /** The finished process's exit code, stdout and stderr. */
    public record Run(int exit, String out, String err) {
    }

    public static Run run(long timeoutSec, String... aliasAndArgs) {
        try {
            Path outF = java.nio.file.Files.createTempFile("out", ".txt"), errF = java.nio.file.Files.createTempFile("err", ".txt");
            Process p = builder(aliasAndArgs).redirectOutput(outF.toFile()).redirectError(errF.toFile()).start();
            if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeoutSec + " s: " + String.join(" ", aliasAndArgs)
                        + "\nstderr: " + java.nio.file.Files.readString(errF));
            }
            return new Run(p.exitValue(), java.nio.file.Files.readString(outF), java.nio.file.Files.readString(errF));
        } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
