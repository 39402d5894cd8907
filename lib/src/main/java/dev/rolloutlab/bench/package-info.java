/**
 * The load generator, workloads (single prompts, GRPO groups, multi-turn sessions), targets and the fanout client; may
 * import engine, openai, results and util.
 */
package dev.rolloutlab.bench;
