/**
 * The results folder's schema and its words: topologies, connections, weight strategies and endpoints as types, the
 * per-request records, summaries with their intervals, sweep points and the folder itself; may import openai (the
 * server timings a request carries) and util.
 */
package dev.rolloutlab.results;
