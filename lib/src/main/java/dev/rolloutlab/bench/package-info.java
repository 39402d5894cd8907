/**
 * The load generator, workloads, per-request records, summaries and the results folder layout; may import engine, openai and util.
 */
package dev.rolloutlab.bench;
