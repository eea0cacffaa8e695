/**
 * The text-to-SQL assistant: {@link dev.gpt4j.sql.TextToSql} writes one SQL query for a question about a schema,
 * with schema-constrained decoding ({@link dev.gpt4j.sql.SqlConstraint}); {@link dev.gpt4j.sql.Evaluator} scores it
 * on Spider and WikiSQL.
 */
package dev.gpt4j.sql;
