/**
 * Small shared helpers with no feature of their own (the JSON mapper, the Javalin set-up, ports, backend addresses,
 * waiting for a condition, removing a work folder, the W3C trace context, a process's span file and a child JVM's tie
 * to its parent); imports nothing of ours.
 */
package dev.rolloutlab.util;
