/**
 * serve: N OpenAI-compatible ports over in-process engines, with token-protected weight admin, request limits,
 * cancellation, {@code /metrics} in vLLM's names and spans for a run's timeline; may import engine, openai and util.
 */
package dev.rolloutlab.server;
