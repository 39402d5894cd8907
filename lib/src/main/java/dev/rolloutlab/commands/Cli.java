package dev.rolloutlab.commands;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Topology;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * Runs a picocli command the way every Rollout Lab script does: usage errors name the flag and exit 2, failures print
 * one readable line (the stack trace only with {@code ROLLOUT_LAB_DEBUG=1}) and exit 1.
 */
public final class Cli {
    public static final int USAGE = 2;
    public static final int FAILURE = 1;

    private Cli() {}

    public static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.registerConverter(Topology.class, s -> converted(s, Topology::parse));
        cl.registerConverter(Strategy.class, s -> converted(s, Cli::strategy));
        cl.registerConverter(
                CompletionRequest.Endpoint.class, s -> converted(s, CompletionRequest.Endpoint::parseOrAuto));
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String m = String.valueOf(ex.getMessage());
            err.println("error: " + (m.startsWith("Error: ") ? m.substring(7) : m));
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Run with --help to see the flags.");
            }
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("error: " + describe(ex));
            if (System.getenv("ROLLOUT_LAB_DEBUG") != null) ex.printStackTrace(err);
            err.flush();
            return ex instanceof UserError u ? u.exitCode : FAILURE;
        });
        return cl;
    }

    /**
     * One line for a failure: what went wrong, never an exception class name (a message-less exception falls back to
     * the innermost cause that has one). A port already taken says so and what to do.
     */
    static String describe(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof BindException || t.getClass().getSimpleName().equals("JavalinBindException")) {
                String outer =
                        ex.getMessage() != null && ex != t && !ex.getMessage().contains("Exception")
                                ? ex.getMessage()
                                : null;
                return outer != null ? outer : "the port is already in use: pick another port, or 0 for a free one";
            }
        }
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        if (t instanceof UncheckedIOException && t.getCause() != null) t = t.getCause();
        String m = t.getMessage();
        if (m == null)
            return "unexpected " + t.getClass().getSimpleName() + " (run with ROLLOUT_LAB_DEBUG=1 for the stack trace)";
        if (t instanceof NoSuchFileException) return m + ": no such file or folder";
        if (t instanceof AccessDeniedException) return m + ": permission denied";
        if (t instanceof FileAlreadyExistsException || t instanceof NotDirectoryException) {
            return m + ": exists and is not a folder we can write to";
        }
        return m;
    }

    /**
     * Prints a deprecation line when the command line used {@code former}, a flag's name from an earlier release that
     * still works beside {@code now} for one more release.
     */
    static void warnFormer(CommandLine.Model.CommandSpec spec, String former, String now) {
        if (spec.commandLine().getParseResult().originalArgs().stream()
                .anyMatch(a -> a.equals(former) || a.startsWith(former + "="))) {
            System.err.println("warning: " + former + " is now " + now + "; the old name goes in the next release");
        }
    }

    /** A domain word parsed by its own rule; its message, not an exception's class name, reaches the user. */
    private static <T> T converted(String s, Function<String, T> parse) {
        try {
            return parse.apply(s);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /** A strategy by name; a name an earlier release used still works for now, with a line saying the new one. */
    static Strategy strategy(String name) {
        Strategy s = Strategy.parse(name);
        if (Strategy.isFormerName(name)) {
            System.err.println("warning: strategy '" + name + "' is now called '" + s.wire()
                    + "'; the old name goes in the next release");
        }
        return s;
    }

    public static int run(Object command, String... args) {
        return commandLine(command).execute(args);
    }

    /**
     * A secret given inline or, preferably, in a file (kept out of {@code ps}); the file wins. A missing or unreadable
     * file is a usage error naming the flag.
     */
    public static String secret(String inline, Path file, String fileFlag) {
        if (file == null) return inline;
        try {
            String s = Files.readString(file).trim();
            if (s.isEmpty()) throw new UserError(fileFlag + " " + file + " is empty: write the secret into it");
            return s;
        } catch (IOException e) {
            throw new UserError(fileFlag + " " + file + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    /**
     * An API key from {@code --api-key} or {@code --api-key-file}, or null for none. An empty key is refused: it reads
     * as "protected" in a script but would serve without authentication.
     */
    static String apiKey(String inline, Path file) {
        if (inline != null && file != null) throw new UserError("give --api-key or --api-key-file, not both");
        if (inline != null && inline.isBlank()) {
            throw new UserError(
                    "--api-key is empty: give a key (better: --api-key-file F, which keeps it out of ps), or "
                            + "leave the flag out to serve without one");
        }
        return secret(inline, file, "--api-key-file");
    }

    /** A failure caused by the user's input; its message says what to change. */
    public static class UserError extends RuntimeException {
        final int exitCode;

        public UserError(String message) {
            this(message, USAGE);
        }

        public UserError(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }
    }
}
