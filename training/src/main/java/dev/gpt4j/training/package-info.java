/** gpt4j training module. */
package dev.gpt4j.training;
