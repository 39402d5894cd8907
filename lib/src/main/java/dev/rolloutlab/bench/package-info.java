/**
 * The load generator, workloads (single prompts, GRPO groups, multi-turn sessions), targets, the fanout client and the
 * servers' /metrics scraper; may import engine, openai, results and util.
 */
package dev.rolloutlab.bench;
