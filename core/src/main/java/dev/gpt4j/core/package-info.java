/** gpt4j core module. */
package dev.gpt4j.core;
