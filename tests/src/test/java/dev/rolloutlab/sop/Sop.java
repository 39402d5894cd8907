package dev.rolloutlab.sop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An SOP file read as steps: each {@code ```bash {run=local|background|remote …}} block is one command, and the next
 * {@code ```text} block holds the regular expressions its output must match, one per line.
 */
record Sop(Path file, List<Step> steps) {
    record Step(int number, String command, String run, Map<String, String> attrs, List<String> expect) {}

    private static final Pattern FENCE = Pattern.compile("^\\s*```(\\w+)\\s*(\\{(.*)})?\\s*$");
    private static final Pattern ATTR = Pattern.compile("(\\w+)=(\"([^\"]*)\"|\\S+)");

    static Sop read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = FENCE.matcher(lines.get(i));
            if (!m.matches() || !m.group(1).equals("bash") || m.group(3) == null) continue;
            Map<String, String> attrs = new LinkedHashMap<>();
            Matcher a = ATTR.matcher(m.group(3));
            while (a.find()) attrs.put(a.group(1), a.group(3) != null ? a.group(3) : a.group(2));
            StringBuilder cmd = new StringBuilder();
            int j = i + 1;
            for (; j < lines.size() && !lines.get(j).trim().equals("```"); j++)
                cmd.append(lines.get(j).trim()).append('\n');
            List<String> expect = new ArrayList<>();
            for (int k = j + 1; k < lines.size(); k++) {
                Matcher n = FENCE.matcher(lines.get(k));
                if (n.matches() && n.group(1).equals("bash")) break;
                if (n.matches() && n.group(1).equals("text")) {
                    for (int q = k + 1; q < lines.size() && !lines.get(q).trim().equals("```"); q++) {
                        if (!lines.get(q).isBlank()) expect.add(lines.get(q).trim());
                    }
                    break;
                }
            }
            steps.add(new Step(
                    steps.size() + 1, cmd.toString().trim(), attrs.getOrDefault("run", "local"), attrs, expect));
            i = j;
        }
        return new Sop(file, steps);
    }
}
