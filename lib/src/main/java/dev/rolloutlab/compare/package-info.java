/**
 * One workload through every topology (inproc, http1, httpN, lb), the weight-freshness experiment and the shared-prefix
 * experiment (GRPO groups, multi-turn sessions); may import bench, cluster (fleet weight updates), engine, openai,
 * process and util.
 */
package dev.rolloutlab.compare;
