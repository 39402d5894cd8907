///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//DEPS io.github.padreati:rapaio-jupyter-kernel:3.0.1
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Install the Java Jupyter kernel with Rollout Lab on its classpath.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.KernelCommand;

public class Kernel {
    public static void main(String... args) {
        System.exit(Cli.run(new KernelCommand(), args));
    }
}
