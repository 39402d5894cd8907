/**
 * The command layer: one picocli command per alias, the shared CLI plumbing and the one entry point; the only package
 * that may import every feature, and none imports it.
 */
package dev.rolloutlab.commands;
