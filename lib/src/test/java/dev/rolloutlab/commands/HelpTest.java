package dev.rolloutlab.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every alias and every subcommand answers {@code --help} alone, with exit 0 and no picocli warning. */
class HelpTest {
    @Test
    void everyCommandAndSubcommandAnswersHelpAloneWithoutWarnings() {
        List<String> checked = new ArrayList<>();
        for (String alias : Main.aliases()) {
            CommandLine top = Cli.commandLine(Main.command(alias));
            walk(top, List.of(alias), checked);
        }
        assertTrue(checked.contains("weights update"), "subcommands are walked: " + checked);
    }

    private static void walk(CommandLine cl, List<String> path, List<String> checked) {
        String name = String.join(" ", path);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter out = new StringWriter(), usageErr = new StringWriter();
        CommandLine top = Cli.commandLine(Main.command(path.get(0)));
        top.setOut(new PrintWriter(out));
        top.setErr(new PrintWriter(usageErr));
        int exit;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8)); // picocli's tracer writes here
        try {
            List<String> args = new ArrayList<>(path.subList(1, path.size()));
            args.add("--help");
            exit = top.execute(args.toArray(String[]::new));
        } finally {
            System.setErr(err);
        }
        String warnings = captured.toString(StandardCharsets.UTF_8) + usageErr;
        assertEquals(0, exit, name + " --help: " + warnings);
        assertTrue(out.toString().contains("Usage: " + cl.getCommandSpec().qualifiedName()), name + ": " + out);
        assertFalse(warnings.contains("WARN") || warnings.contains("error"), name + " --help warned: " + warnings);
        checked.add(name);
        for (var sub : cl.getSubcommands().entrySet()) {
            if (sub.getValue().getCommandSpec().usageMessage().hidden()) continue;
            List<String> next = new ArrayList<>(path);
            next.add(sub.getKey());
            walk(sub.getValue(), next, checked);
        }
    }
}
