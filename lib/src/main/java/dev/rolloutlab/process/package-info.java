/**
 * Our own tools in child JVMs (start, wait until ready, stop; each exits with the JVM that started it), so a topology
 * under test runs in its own process; may import util.
 */
package dev.rolloutlab.process;
