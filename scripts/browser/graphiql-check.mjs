// Loads the GraphiQL page of a running Frontdesk in headless Chromium and checks that it
// works with no network beyond loopback and under the page's Content-Security-Policy: the
// editor mounts with the headers tab open, `{ __typename }` runs and its answer appears.
// It starts nothing itself.
//
//   node graphiql-check.mjs http://127.0.0.1:8080      (CHROMIUM=/path overrides the browser)
import puppeteer from 'puppeteer-core';

const base = process.argv[2];
if (!base) {
  console.error('usage: node graphiql-check.mjs <server url>');
  process.exit(2);
}
const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);
const problems = [];

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    // Names other than loopback do not resolve: nothing can come from a CDN.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  ],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || loopback.has(url.hostname)) {
      request.continue();
    } else {
      problems.push(`the page asked for ${request.url()} (beyond loopback)`);
      request.abort();
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Script-src violations would mean part of GraphiQL did not run.
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  const response = await page.goto(`${base}/graphiql`, { waitUntil: 'load' });
  const csp = response.headers()['content-security-policy'] || '';
  if (!csp.includes("script-src 'self'") || csp.includes('unsafe-eval')) {
    problems.push(`the page's Content-Security-Policy is not strict: ${csp || '(none)'}`);
  }

  // The editor mounts (CodeMirror inside GraphiQL's query editor).
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  const headersOpen = await page.evaluate(
    () =>
      !!document.querySelector('.graphiql-editor-tools button[data-name="headers"].active') &&
      !!document.querySelector('section.graphiql-editor-tool[aria-label="Headers"]'),
  );
  if (!headersOpen) problems.push('the headers tab is not open');

  // Run `{ __typename }` and wait for its answer.
  await page.evaluate(() => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ __typename }');
  });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => {
      const cm = document.querySelector('.graphiql-response .CodeMirror');
      return cm && cm.CodeMirror.getValue().includes('"__typename": "Query"');
    },
    { timeout: 20_000 },
  );
  console.log('graphiql-check: the editor mounted with the headers tab open and `{ __typename }` answered "Query"');
} catch (error) {
  problems.push(`${error.message}`);
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error('graphiql-check FAILED:');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
