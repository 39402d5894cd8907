/**
 * serve: N OpenAI-compatible ports over in-process engines, with token-protected weight admin, request limits and
 * cancellation; may import engine, openai and util.
 */
package dev.rolloutlab.server;
