/**
 * Small shared helpers with no feature of their own (the JSON mapper, the Javalin set-up, ports, backend addresses,
 * waiting for a condition); imports nothing of ours.
 */
package dev.rolloutlab.util;
