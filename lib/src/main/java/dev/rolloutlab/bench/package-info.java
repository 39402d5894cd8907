/** The load generator, workloads, targets and the fanout client; may import engine, openai, results and util. */
package dev.rolloutlab.bench;
