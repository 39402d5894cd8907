/**
 * Our own tools in child JVMs (start, wait until ready, stop; each exits with the JVM that started it), so a topology
 * under test runs in its own process, and what the machine under them was doing and how fast it was (load, steal, a
 * calibration of computation and of hand-offs between CPUs); may import util.
 */
package dev.rolloutlab.process;
