// The explorer's pages in a real browser (Debian's chromium, headless, driven by playwright-core):
// each page opens offline, steps through every record forward and backward with the arrow key,
// shows a derivative for every record, never logs a console error, and at the end shows at each
// leaf the gradient C++ computed (NAME.expected.json beside NAME.html, written by
// `backprop_explorer DIR --expected`), to 4 significant digits.
//
//   node tests/browser/explorer_test.mjs DIR
//
// Finds playwright-core in tests/browser/node_modules (scripts/setup.sh --browser installs it
// there) or NODE_PATH, and the browser at $CHROMIUM or /usr/bin/chromium. Without either it exits
// 77: CTest reports the test skipped.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const SKIP = 77;
const dir = process.argv[2];
if (!dir) { console.error("usage: node explorer_test.mjs DIR"); process.exit(2); }
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!fs.existsSync(browserPath)) {
  console.log(`skipped: no browser at ${browserPath} (bash scripts/setup.sh --browser)`);
  process.exit(SKIP);
}
let chromium;
try {
  const require = createRequire(import.meta.url);   // tests/browser/node_modules, else NODE_PATH
  const paths = [path.dirname(new URL(import.meta.url).pathname), ...(process.env.NODE_PATH || "").split(":").filter(Boolean)];
  ({ chromium } = require(require.resolve("playwright-core", { paths })));
} catch (e) {
  console.log("skipped: playwright-core is not installed (bash scripts/setup.sh --browser)");
  process.exit(SKIP);
}

const pages = fs.readdirSync(dir).filter((f) => f.endsWith(".html")).sort();
if (pages.length === 0) { console.error(`no pages in ${dir}`); process.exit(1); }

// The numbers a view shows: every cell of its table (or its one scalar), or its statistics.
async function shown(cell) {
  return cell.evaluate((td) => {
    const numbers = [...td.querySelectorAll("[data-value]")].map((e) => e.textContent);
    const stats = {};
    for (const s of td.querySelectorAll("[data-stat]")) stats[s.dataset.stat] = s.textContent;
    return { numbers, stats };
  });
}

function close(text, expected, what) {
  const v = Number(text);
  // 4 significant digits: the page rounds to them.
  const ok = Number.isFinite(v) && Math.abs(v - expected) <= 6e-4 * Math.abs(expected) + 1e-12;
  if (!ok) throw new Error(`${what}: the page shows ${text}, C++ gives ${expected}`);
}

const browser = await chromium.launch({ executablePath: browserPath, headless: true,
                                        args: ["--no-sandbox", "--disable-gpu"] });
let failures = 0;
try {
  for (const file of pages) {
    const name = file.replace(/\.html$/, "");
    const expectedFile = path.join(dir, name + ".expected.json");
    if (!fs.existsSync(expectedFile)) throw new Error(`${expectedFile} is missing (backprop_explorer DIR --expected)`);
    const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8"));
    const bytes = fs.statSync(path.join(dir, file)).size;
    const context = await browser.newContext({ offline: true });   // no network: it must not need one
    const page = await context.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) errors.push("request to " + r.url()); });
    try {
      const start = Date.now();
      await page.goto(pathToFileURL(path.resolve(dir, file)).href);
      await page.waitForFunction(() => window.explorer !== undefined, null, { timeout: 20000 });
      const opened = Date.now() - start;
      const steps = await page.evaluate(() => window.explorer.steps);
      let missing = [];
      for (let s = 1; s <= steps; ++s) {
        await page.keyboard.press("ArrowRight");
        const state = await page.evaluate(() => window.explorer.state());
        if (state !== s) throw new Error(`after ${s} presses of the right arrow the page is at step ${state}`);
        const text = await page.textContent("#detail");
        if (text.includes("has no row for")) missing.push(text.match(/has no row for (\S+)/)[1].replace(/\)$/, ""));
      }
      if (missing.length) throw new Error("no derivative shown for " + [...new Set(missing)].join(", "));
      const cells = await page.$$("td.leaf-grad");
      const seen = new Set();
      for (const cell of cells) {
        const leaf = await cell.getAttribute("data-leaf");
        if (await cell.getAttribute("data-final") !== "true") throw new Error("the sweep did not end");
        const want = expected[leaf];
        if (!want) throw new Error(`the page shows a leaf ${leaf} that C++ did not name`);
        seen.add(leaf);
        const got = await shown(cell);
        if (got.numbers.length) {
          if (got.numbers.length !== want.grad.length) throw new Error(`${leaf}: ${got.numbers.length} numbers shown, ${want.grad.length} expected`);
          got.numbers.forEach((t, i) => close(t, want.grad[i], `${leaf}[${i}]`));
        } else {
          const g = want.grad;
          close(got.stats.min, Math.min(...g), `${leaf} min`);
          close(got.stats.max, Math.max(...g), `${leaf} max`);
          close(got.stats.norm, Math.sqrt(g.reduce((a, x) => a + x * x, 0)), `${leaf} norm`);
        }
      }
      for (const leaf of Object.keys(expected)) if (!seen.has(leaf)) throw new Error(`the page shows no gradient for ${leaf}`);
      if (errors.length) throw new Error("console errors: " + errors.join(" | "));
      if (bytes > 5 * 1024 * 1024) throw new Error(`${bytes} bytes: over 5 MB`);
      console.log(`ok  ${file}: ${steps} steps, ${seen.size} leaves checked, ${(bytes / 1024).toFixed(0)} KB, opened in ${opened} ms`);
    } catch (e) {
      ++failures;
      console.log(`FAIL ${file}: ${e.message}`);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
