// Loaded before every notebook by notebooks/jshell.sh: the imports and two helpers.
import dev.gpt4j.tokenizer.*;
import dev.gpt4j.core.*;
import dev.gpt4j.data.*;
import dev.gpt4j.inference.*;
import dev.gpt4j.sql.*;
import dev.gpt4j.training.*;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ndarray.INDArray;
import java.nio.file.*;

/** The data sets: GPT4J_DATA (or -Dgpt4j.data), else ../shared/data beside the project (see DataDir). */
Path DATA = DataDir.resolve();

/** A fact the notebook teaches; a broken library fails here (the notebook runner treats it as an error). */
void check(boolean fact, String what) {
    if (!fact) throw new AssertionError("CHECK FAILED: " + what);
    System.out.println("  ok: " + what);
}
