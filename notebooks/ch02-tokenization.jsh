// Chapter 2: working with text. From words to token ids, byte-pair encoding, and the sliding windows a GPT trains on.
String text = Files.readString(DATA.resolve("text/the-verdict.txt"));
System.out.println("the-verdict.txt: " + text.length() + " characters; it starts: " + text.substring(0, 60));

// 2.2 a first tokenizer: words and punctuation marks, as the book's regular expression splits them
var words = java.util.regex.Pattern.compile("--|[,.:;?_!\"()']|[^\\s,.:;?_!\"()']+?(?=--|[\\s,.:;?_!\"()']|$)").matcher(text).results().map(m -> m.group()).toList();
System.out.println(words.size() + " tokens; first: " + words.subList(0, 8));
check(words.size() == 4690, "the book's count: 4,690 words and punctuation marks");

// 2.5 byte-pair encoding with GPT-2's vocabulary (50,257 tokens): any text, no unknown words
BpeTokenizer gpt2 = BpeTokenizer.load(DATA.resolve("gpt2"));
int[] ids = gpt2.encode("How many singers are there?");
System.out.println(gpt2 + " encodes 'How many singers are there?' as " + Arrays.toString(ids));
check(Arrays.equals(ids, new int[] {2437, 867, 39113, 389, 612, 30}), "the same ids as OpenAI's tiktoken");
String odd = "Akwirw ier <|endoftext|> someunknownPlace.";
check(gpt2.decode(gpt2.encode(odd)).equals(odd), "decode(encode(x)) == x, even for made-up words");
check(gpt2.encode("<|endoftext|>")[0] == 50256, "<|endoftext|> is the special token 50256");
System.out.println("'Akwirw' is split into " + gpt2.tokenize("Akwirw"));

// learning our own vocabulary (the text-to-SQL model has its own, with prompt markers as special tokens)
BpeTokenizer ours = new BpeTrainer(1000, PromptFormat.SPECIAL_TOKENS).train(List.of(text));
System.out.println(ours + ", special tokens " + ours.specialTokens());
check(ours.vocabSize() <= 1000 + PromptFormat.SPECIAL_TOKENS.size(), "at most 1,000 ids plus the specials");
check(ours.decode(ours.encode(text)).equals(text), "our vocabulary round-trips the whole story");
check(ours.encode(text).length < text.length() / 2, "and needs fewer than one token per two characters");

// 2.6 input-target pairs: the target is the input shifted by one token
int[] tokens = gpt2.encode(text);
int ctx = 4;
int[] x = Arrays.copyOfRange(tokens, 50, 50 + ctx), y = Arrays.copyOfRange(tokens, 51, 51 + ctx);
for (int i = 1; i <= ctx; i++) System.out.println(gpt2.decode(Arrays.copyOf(x, i)) + " ---> " + gpt2.decode(y[i - 1]));
check(Arrays.equals(Arrays.copyOfRange(x, 1, ctx), Arrays.copyOf(y, ctx - 1)), "targets are the inputs shifted by one");
System.out.println("NOTEBOOK OK");
/exit
