/**
 * Byte-level BPE tokenization read from tokenizer.json, the chat template, and the builder that writes a tokenizer for
 * the synthetic models.
 */
package dev.rolloutlab.engine.tokenizer;
