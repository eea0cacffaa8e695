package dev.gpt4j.server;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The page in a real browser (Debian's chromium and chromium-driver, headless): type a question, see the SQL and the
 * rows, say "no", correct the SQL, see the correction in the history, and find it in the log database. Screenshots
 * go to target/screenshots/ to be looked at. Without chromium the test is skipped, unless GPT4J_REQUIRE_BROWSER is set
 * (by .ci/run, which installs it), where its absence fails.
 */
class PageBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path tmp;

    @Test
    void askCorrectAndFindTheCorrectionInTheLog() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
        if (!present && System.getenv("GPT4J_REQUIRE_BROWSER") != null) {
            fail("GPT4J_REQUIRE_BROWSER is set but " + CHROMIUM + " or " + DRIVER + " is missing (apt-get install chromium chromium-driver)");
        }
        Assumptions.assumeTrue(present, "skipped: no " + CHROMIUM + " and " + DRIVER + " (apt-get install chromium chromium-driver)");

        Path shots = Path.of("target/screenshots");
        Files.createDirectories(shots);
        try (TestServer s = new TestServer(tmp.resolve("log.db"), b -> b)) {
            ChromeOptions o = new ChromeOptions();
            o.setBinary(CHROMIUM.toFile());
            // as root, and on a closed network (no sync, no updates, no first-run fetches that would stall it)
            o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1366,900",
                    "--user-data-dir=" + tmp.resolve("chrome-profile"));
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
            ChromeDriver driver = new ChromeDriver(service, o);
            try {
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
                driver.get(s.url + "/");
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("schema"), "employee"));
                assertEquals("employees", driver.findElement(By.id("database")).getAttribute("value"));

                // type a question, Enter asks
                WebElement q = driver.findElement(By.id("question"));
                q.sendKeys("List the names of all departments");
                q.sendKeys(Keys.ENTER);
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("feedback")));
                String sql = driver.findElement(By.id("sql")).getText();
                assertTrue(sql.startsWith("SELECT"), sql);
                List<WebElement> rows = driver.findElements(By.cssSelector("#rows tbody tr"));
                assertFalse(rows.isEmpty(), "the result table has rows");
                shot(driver, shots.resolve("1-answer.png"));

                // "no", then a correction that must run on the database
                driver.findElement(By.id("feedback-no")).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("corrected-sql")));
                WebElement fix = driver.findElement(By.id("corrected-sql"));
                fix.clear();
                String corrected = "SELECT name, location FROM department ORDER BY name";
                fix.sendKeys(corrected);
                driver.findElement(By.id("save-correction")).click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("feedback-done"), "Correction saved"));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("history"), corrected));
                assertEquals(5, driver.findElements(By.cssSelector("#corrected-rows tbody tr")).size());
                assertTrue(driver.findElement(By.id("history")).getText().contains("corrected"), driver.findElement(By.id("history")).getText());
                shot(driver, shots.resolve("2-corrected.png"));

                // an unsafe correction is refused, with the guard's reason on the page
                fix.clear();
                fix.sendKeys("DROP TABLE employee");
                driver.findElement(By.id("save-correction")).click();
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("correction-error")));
                assertTrue(driver.findElement(By.id("correction-error")).getText().contains("refused"));

                // model output and values are text, never HTML: a question with markup comes back as text in the history
                q.clear();
                q.sendKeys("<img src=x onerror=alert(1)> how many employees?");
                q.sendKeys(Keys.ENTER);
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("history"), "<img src=x onerror=alert(1)>"));
                assertEquals(0L, ((Number) ((JavascriptExecutor) driver).executeScript("return document.querySelectorAll('#history img').length")).longValue());
                shot(driver, shots.resolve("3-history.png"));
            } finally {
                driver.quit();
            }
            // the correction is in the log database
            try (QueryLog log = QueryLog.open(s.log)) {
                List<QueryLog.Pair> pairs = log.corrections("employees", false);
                assertEquals(1, pairs.size(), pairs.toString());
                assertEquals("List the names of all departments", pairs.get(0).question());
                assertEquals("SELECT name, location FROM department ORDER BY name", pairs.get(0).sql());
            }
        }
    }

    private static void shot(ChromeDriver driver, Path to) throws Exception {
        File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
    }
}
