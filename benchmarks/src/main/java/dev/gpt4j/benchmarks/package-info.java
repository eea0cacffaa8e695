/** gpt4j benchmarks module. */
package dev.gpt4j.benchmarks;
