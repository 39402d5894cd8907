package dev.rolloutlab.report;

import dev.rolloutlab.util.Json;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Installs rapaio-jupyter-kernel (from Maven Central) as a Jupyter kernel whose JShell sees this library, so a notebook
 * can {@code import dev.rolloutlab.*} at once. It also compiles a fixed {@code LoopThread} ahead of the kernel jar:
 * rapaio 3.0.1 has a start-up race that hangs about one start in four.
 */
public final class KernelInstaller {
    public static final String RAPAIO = "rapaio-jupyter-kernel";

    private KernelInstaller() {}

    /** Default kernels folder: {@code $JUPYTER_DATA_DIR/kernels}, else {@code ~/.local/share/jupyter/kernels}. */
    public static Path defaultKernelsDir() {
        String d = System.getenv("JUPYTER_DATA_DIR");
        return d != null && !d.isBlank()
                ? Path.of(d, "kernels")
                : Path.of(System.getProperty("user.home"), ".local", "share", "jupyter", "kernels");
    }

    /**
     * Writes {@code kernels/<name>/kernel.json}. {@code classpath} must hold the rapaio kernel jar and Rollout Lab with
     * its dependencies; {@code java} is the JDK's java binary the kernel runs on.
     */
    public static Path install(String name, String classpath, Path kernelsDir, String java) {
        List<String> entries = Arrays.stream(classpath.split(File.pathSeparator))
                .filter(s -> !s.isBlank())
                .toList();
        String rapaio = entries.stream()
                .filter(e -> Path.of(e).getFileName().toString().startsWith(RAPAIO))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "the classpath has no " + RAPAIO + " jar (the kernel alias brings it)"));
        Path dir = kernelsDir.resolve(name);
        Path patch = dir.resolve("patch");
        try {
            Files.createDirectories(patch);
            compileFix(patch, rapaio);
            List<String> rest = entries.stream().filter(e -> !e.equals(rapaio)).toList();
            String kernelCp = patch + File.pathSeparator + String.join(File.pathSeparator, entries);
            List<String> argv = new ArrayList<>(
                    List.of(java, "--add-modules", "jdk.incubator.vector", "-Djava.awt.headless=true", "-Xmx4g"));
            // the same JDK as this one: from 23 on, let Tablesaw's classgraph unmap files without a warning per
            // notebook
            if (Runtime.version().feature() >= 23) argv.add("--sun-misc-unsafe-memory-access=allow");
            argv.addAll(List.of("-cp", kernelCp, "org.rapaio.jupyter.kernel.MainApp", "{connection_file}"));
            Map<String, Object> kernel = new LinkedHashMap<>();
            kernel.put("argv", argv);
            kernel.put("display_name", "Java (Rollout Lab)");
            kernel.put("language", "java");
            kernel.put("interrupt_mode", "message");
            Map<String, String> env = new LinkedHashMap<>();
            env.put("RJK_CLASSPATH", String.join(File.pathSeparator, rest));
            env.put("RJK_COMPILER_OPTIONS", "--add-modules jdk.incubator.vector");
            env.put("RJK_TIMEOUT_MILLIS", "-1");
            kernel.put("env", env);
            Json.writeFile(dir.resolve("kernel.json"), kernel);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void compileFix(Path out, String rapaioJar) throws IOException {
        Path src = out.resolve("src/org/rapaio/jupyter/kernel/channels/LoopThread.java");
        Files.createDirectories(src.getParent());
        try (InputStream in = KernelInstaller.class.getResourceAsStream("LoopThread.java.txt")) {
            if (in == null) throw new IllegalStateException("LoopThread.java.txt missing from the library");
            Files.writeString(src, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new IllegalStateException("kernel install needs a JDK (javac), not a JRE");
        int rc = javac.run(null, null, null, "-d", out.toString(), "-cp", rapaioJar, "--release", "21", src.toString());
        if (rc != 0) throw new IllegalStateException("compiling the LoopThread fix failed (javac exit " + rc + ")");
    }
}
