// Chapters 6-7: fine-tuning, here for text-to-SQL. The prompt, the loss mask, a short fine-tuning run, and
// questions asked of a real Spider database. (The shipped model is trained the same way, for hours.)

// the prompt: schema, question, then the SQL the model writes
Spider spider = Spider.open(DATA.resolve("spider"));
Schema schema = spider.schema("concert_singer");
System.out.println(PromptFormat.promptText(schema, "How many singers do we have?"));

// fine-tuning examples put the loss on the SQL tokens only (targets are -100 elsewhere)
BpeTokenizer gpt2 = BpeTokenizer.load(DATA.resolve("gpt2")).withSpecialTokens(PromptFormat.SPECIAL_TOKENS.toArray(new String[0]));
PromptFormat format = new PromptFormat(gpt2);
Example ex = format.example(schema, "How many singers do we have?", "SELECT count(*) FROM singer", 512);
int[] targets = ex.targets();
long counted = Arrays.stream(targets).filter(t -> t != Example.IGNORE).count();
System.out.println(ex.length() + " tokens, " + counted + " of them in the loss: " + gpt2.decode(Arrays.copyOfRange(ex.tokens(), ex.answerStart(), ex.length())));
check(counted == gpt2.encode("SELECT count(*) FROM singer").length + 1, "only the SQL and the end token are learned");

// a short fine-tuning run with the trainer (tiny model, 24 WikiSQL questions, 120 steps)
Path work = Files.createTempDirectory("gpt4j-notebook");
var pairs = Corpora.fineTuning(DATA).stream().filter(e -> e.source().equals("wikisql")).limit(2000).toList();
BpeTokenizer tok = new BpeTrainer(1200, PromptFormat.SPECIAL_TOKENS).train(pairs.stream().map(e -> e.schema().compact() + " " + e.question() + " " + e.sql()).toList());
GptModel init = GptModel.create(new GptConfig(tok.vocabSize(), 160, 64, 2, 4, 0.0, 1e-5, true, true), 3);
init.save(work.resolve("init"));
tok.save(work.resolve("init"));
init.close();
TrainConfig cfg = TrainConfig.of("mode=finetune", "init=" + work.resolve("init"), "out=" + work.resolve("ft"), "datasets=wikisql", "max_examples=24", "steps=120", "lr=3e-3", "min_lr=1e-3", "warmup_steps=10", "eval_every=40", "log_every=20");
Trainer.Result r = new Trainer(cfg, System.out).run(false);
check(r.lastLoss() < 1.0, String.format("the loss on the SQL fell below 1 (%.3f)", r.lastLoss()));
System.out.println("metrics: " + r.metrics() + "; plot: " + work.resolve("ft/metrics.png"));

// asking: the fine-tuned model answers a question it was trained on
TextToSql t2s = TextToSql.load(r.modelDir());
var seen = pairs.stream().filter(e -> !Corpora.isValidation(e.source(), e.group(), 5)).findFirst().get();
SqlAnswer answer = t2s.ask(seen.schema(), seen.question());
System.out.println(seen.question() + "\n  gold:   " + seen.sql() + "\n  answer: " + answer);
check(answer.promptTokens() > 0 && answer.sqlTokens() > 0, "the answer has a prompt and SQL tokens");

// running SQL on a real database: read-only, with a time-out, and only a single SELECT passes the guard
SqliteDatabase db = SqliteDatabase.open(spider.databasePath("concert_singer"));
QueryResult rows = db.queryUntrusted("SELECT name, country FROM singer ORDER BY age DESC LIMIT 3");
System.out.println(rows.format(3));
check(db.queryUntrusted("SELECT count(*) FROM singer").rows().get(0).get(0).toString().equals("6"), "concert_singer has 6 singers");
SqlCheck refused = SqlGuard.check("DROP TABLE singer");
System.out.println("DROP TABLE singer -> " + refused);
check(!refused.allowed(), "the guard refuses anything but one read-only query");
db.close();
t2s.close();
System.out.println("NOTEBOOK OK");
/exit
