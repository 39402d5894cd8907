package dev.rolloutlab.commands;

import dev.rolloutlab.report.KernelInstaller;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kernel install}: the Java Jupyter kernel with Rollout Lab on its classpath. */
@Command(
        name = "kernel",
        mixinStandardHelpOptions = true,
        description = "Install the Java Jupyter kernel (rapaio) with Rollout Lab on its classpath.")
public final class KernelCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ACTION", description = "install")
    String action;

    @Option(names = "--name", defaultValue = "rollout-lab", description = "Kernel name. Default: ${DEFAULT-VALUE}")
    String name;

    @Option(
            names = "--kernels-dir",
            description = "Where Jupyter looks for kernels. Default: $JUPYTER_DATA_DIR/kernels or "
                    + "~/.local/share/jupyter/kernels.")
    Path kernelsDir;

    @Override
    public Integer call() {
        if (!action.equals("install")) throw new Cli.UserError("ACTION " + action + ": expected install");
        String java = ProcessHandle.current().info().command().orElse("java");
        Path dir = KernelInstaller.install(
                name,
                System.getProperty("java.class.path"),
                kernelsDir != null ? kernelsDir : KernelInstaller.defaultKernelsDir(),
                java);
        System.out.println("installed kernel '" + name + "' in " + dir);
        System.out.println(
                "run a notebook: jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=" + name
                        + " notebooks/01-http-vs-inprocess.ipynb");
        return 0;
    }
}
