package dev.gpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.tokenizer.BpeTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = {"Decodes token ids to text.",
                "Streams: each line of standard input is one JSON array of ids, each line of output the JSON string",
                "they decode to (bytes that are not valid UTF-8, e.g. half a character, become U+FFFD).",
                "Example: echo '[46506, 352]' | gpt4j detokenize --vocab ../shared/data/gpt2"})
final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--vocab", required = true, paramLabel = "DIR",
            description = "Folder with vocab.json and merges.txt.")
    Path vocab;

    InputStream in = System.in;

    @Override
    public Integer call() throws IOException {
        BpeTokenizer tok = Tokenizers.load(vocab);
        ObjectMapper om = new ObjectMapper();
        JsonLines.filter(in, spec.commandLine().getOut(), (line, n) -> {
            JsonNode node = JsonLines.parse(om, line, n, "a JSON array");
            if (!node.isArray()) {
                throw new CliException("standard input line " + n + ": expected a JSON array of token ids such as [46506, 352]");
            }
            int[] ids = new int[node.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode v = node.get(i);
                if (!v.canConvertToInt() || !v.isIntegralNumber()) {
                    throw new CliException("standard input line " + n + ": element " + i + " is not a token id: " + v);
                }
                ids[i] = v.intValue();
            }
            try {
                return om.writeValueAsString(tok.decode(ids));
            } catch (IllegalArgumentException e) {
                throw new CliException("standard input line " + n + ": " + e.getMessage());
            }
        });
        return 0;
    }
}
