/**
 * The OpenAI wire protocol: request and response records, the measured completion client and the control-plane client,
 * and the Engine-over-HTTP adapter; may import engine, http1 and util.
 */
package dev.rolloutlab.openai;
