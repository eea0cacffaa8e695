/** gpt4j inference module. */
package dev.gpt4j.inference;
