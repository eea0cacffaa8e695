/** The {@code gpt4j} command line: one class per command, option classes shared between them. */
package dev.gpt4j.cli;
