/**
 * The Hugging Face files a checkpoint folder holds, read and checked: config.json as a {@code ModelConfig}, safetensors
 * headers and dtypes, and the one JSON mapper and format error they share; and the one file they become for llama.cpp
 * ({@code Gguf}).
 */
package dev.rolloutlab.engine.checkpoint;
