/** gpt4j data module. */
package dev.gpt4j.data;
