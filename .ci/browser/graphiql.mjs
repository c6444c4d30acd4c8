// GraphiQL in Debian's Chromium, offline: opens GET /graphql with every
// address but 127.0.0.1 cut off, runs `{ clinicPolicy { timeZone } }` with
// a bearer token typed into the Headers pane, and opens the Docs pane.
// Fails on any request that left 127.0.0.1, on any Content-Security-Policy
// violation, and when the answer or the schema does not show.
//
//   node .ci/browser/graphiql.mjs BASE_URL ACCESS_TOKEN [SCREENSHOT_DIR]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, shots = "target/graphiql"] = process.argv.slice(2);
if (!base || !token) {
  console.error("usage: graphiql.mjs BASE_URL ACCESS_TOKEN [SCREENSHOT_DIR]");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const local = new URL(base).host;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // No name resolves and no address but the server's is reachable.
  args: [
    "--no-sandbox",
    `--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1`,
    "--proxy-server=http://127.0.0.1:9", // anything that escapes the routes below fails
    `--proxy-bypass-list=${local}`,
  ],
});
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === local || url.protocol === "data:") return route.continue();
    problems.push(`request left the clinic network: ${url.href}`);
    return route.abort("internetdisconnected");
  });
  await context.addInitScript(
    ({ token }) => {
      if (window.location.pathname !== "/graphql") return;
      window.localStorage.setItem("graphiql:query", "{ clinicPolicy { timeZone } }");
      window.localStorage.setItem(
        "graphiql:headers",
        JSON.stringify({ authorization: `Bearer ${token}` }),
      );
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    },
    { token },
  );
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

  const response = await page.goto(`${base}/graphql`, { waitUntil: "load" });
  if (response?.status() !== 200) throw new Error(`GET /graphql answered ${response?.status()}`);
  const csp = response.headers()["content-security-policy"] ?? "";
  if (!csp.includes("script-src 'self'")) throw new Error(`page CSP is ${csp}`);

  await page.locator(".graphiql-execute-button").click({ timeout: 30_000 });
  const result = page.locator(".result-window");
  await result.getByText("timeZone").first().waitFor({ timeout: 30_000 });
  const answer = await result.innerText();
  if (!/"timeZone":\s*"[A-Za-z_]+\/[A-Za-z_]+"/.test(answer.replace(/\s+/g, " "))) {
    throw new Error(`the query's answer is not shown: ${answer}`);
  }
  await page.screenshot({ path: join(shots, "graphiql-query.png") });

  await page.getByRole("button", { name: /Show Documentation Explorer/i }).click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByText("Query", { exact: true }).first().click({ timeout: 30_000 });
  await docs.getByText("clinicPolicy").first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, "graphiql-docs.png") });
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`GraphiQL offline: query answered and Docs show the schema (screenshots in ${shots})`);
