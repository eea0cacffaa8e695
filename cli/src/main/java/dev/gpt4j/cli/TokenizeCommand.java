package dev.gpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encodes text to token ids.",
                "Streams: each line of standard input is one JSON string, each line of output the JSON array of its ids.",
                "Example: echo '\"SELECT 1\"' | gpt4j tokenize --vocab ../shared/data/gpt2"})
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--vocab", required = true, paramLabel = "DIR",
            description = "Folder with vocab.json and merges.txt (e.g. ../shared/data/gpt2 or a model folder).")
    Path vocab;

    @Option(names = "--special", paramLabel = "POLICY", defaultValue = "allow",
            description = "What to do with special-token text such as <|endoftext|> in the input: "
                    + "allow (encode it as the special token, as tiktoken does with all special tokens allowed), "
                    + "refuse (stop with an error), or plain (encode it as ordinary text). Default: ${DEFAULT-VALUE}.")
    String special;

    InputStream in = System.in;

    @Override
    public Integer call() throws IOException {
        SpecialTokens policy = policy(special);
        BpeTokenizer tok = Tokenizers.load(vocab);
        ObjectMapper om = new ObjectMapper();
        JsonLines.filter(in, spec.commandLine().getOut(), (line, n) -> {
            JsonNode node = JsonLines.parse(om, line, n, "a JSON string");
            if (!node.isTextual()) {
                throw new CliException("standard input line " + n + ": expected a JSON string such as \"SELECT 1\", got "
                        + node.getNodeType().toString().toLowerCase());
            }
            int[] ids;
            try {
                ids = tok.encode(node.textValue(), policy);
            } catch (IllegalArgumentException e) {
                throw new CliException("standard input line " + n + ": " + e.getMessage().replaceAll(
                        "; encode it with .*", "") + " (refused by --special refuse)");
            }
            StringBuilder sb = new StringBuilder(ids.length * 6 + 2).append('[');
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(ids[i]);
            }
            return sb.append(']').toString();
        });
        return 0;
    }

    static SpecialTokens policy(String name) {
        return switch (name.toLowerCase()) {
            case "allow" -> SpecialTokens.ALLOW;
            case "refuse" -> SpecialTokens.REFUSE;
            case "plain" -> SpecialTokens.PLAIN_TEXT;
            default -> throw new CliException("--special must be allow, refuse or plain, not '" + name + "'");
        };
    }
}
