// Opens an onwatch HTML report in headless Chromium (Debian's, driven by playwright-core) from
// file://, offline, and checks it as a person would use it. Run by tests/it/html_report.rs:
//
//   node tests/browser/report.mjs SCENARIO REPORT.html REPORT.json ARTIFACTS_DIR
//
// SCENARIO is `check` (headline figures against the JSON report, severity filter, name search,
// paging, an expanded row, screenshots at 1280 and 390 wide), `hostile` (an inventory of markup and
// script: nothing runs, nothing loads, the values show as text), `drift` (the drift page against its
// JSON report) or `measure` (prints first-contentful-paint, the load event, and the time the page takes to filter, search and page).
// Every scenario fails on a dialog, a console error, a page error or any request besides the page.
// ONWATCH_PLAYWRIGHT is the playwright-core package directory, ONWATCH_CHROMIUM the browser.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [scenario, htmlPath, jsonPath, artifacts] = process.argv.slice(2);
assert.ok(scenario && htmlPath && jsonPath && artifacts, 'usage: report.mjs SCENARIO REPORT.html REPORT.json ARTIFACTS_DIR');
const playwrightDir = process.env.ONWATCH_PLAYWRIGHT;
const chromium = process.env.ONWATCH_CHROMIUM;
assert.ok(playwrightDir && fs.existsSync(playwrightDir), `ONWATCH_PLAYWRIGHT=${playwrightDir} is not playwright-core: run scripts/test.sh`);
assert.ok(chromium && fs.existsSync(chromium), `ONWATCH_CHROMIUM=${chromium} does not exist: run scripts/test.sh`);
const { chromium: driver } = await import(pathToFileURL(path.join(playwrightDir, 'index.mjs')).href);

const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const url = pathToFileURL(path.resolve(htmlPath)).href;
fs.mkdirSync(artifacts, { recursive: true });

const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'onwatch-chromium-'));
const context = await driver.launchPersistentContext(userData, {
  executablePath: chromium,
  headless: true,
  offline: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
const page = context.pages()[0] ?? (await context.newPage());
page.on('dialog', (dialog) => { problems.push(`dialog: ${dialog.type()} ${dialog.message()}`); dialog.dismiss().catch(() => {}); });
page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`); });
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
context.on('request', (request) => { if (request.url() !== url) problems.push(`request: ${request.url()}`); });

try {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('html[data-ready]', { timeout: 60000 });
  const scenarios = { check, hostile, drift, measure };
  assert.ok(scenarios[scenario], `unknown scenario ${scenario}`);
  await scenarios[scenario]();
  // Give late handlers (an image error, a timer) the chance to show themselves.
  await page.waitForTimeout(300);
  assert.deepEqual(problems, [], 'the page must run nothing, load nothing and log no error');
  console.log(`${scenario}: ok`);
} finally {
  await context.close();
  fs.rmSync(userData, { recursive: true, force: true });
}

function text(selector) {
  return page.locator(selector).first().textContent();
}

/// What the table shows: the count line and, per row, the severity, code and resource.
async function table() {
  return {
    count: await text('#findings-count'),
    rows: await page.$$eval('#findings-body > tr', (trs) => trs.map((tr) => ({
      severity: tr.querySelector('.sev').textContent,
      code: tr.querySelector('code').textContent,
      resource: tr.querySelector('summary .name').textContent,
    }))),
  };
}

/// The rows of `expected` findings the table's first page must show, and its count line.
function expectTable(actual, expected, total) {
  const pageSize = 100;
  const first = expected.slice(0, pageSize).map((f) => ({ severity: f.severity, code: f.code, resource: f.resource }));
  assert.deepEqual(actual.rows, first);
  const filtered = expected.length === total ? '' : ` (filtered from ${total})`;
  const count = expected.length === 0 ? `No rows match${filtered}` : `Showing 1\u2013${first.length} of ${expected.length}${filtered}`;
  assert.equal(actual.count, count);
}

/// Sets the severity filter and the search, and waits until the table shows the result.
async function setFilters(severity, query) {
  const index = severity === '' ? '' : String(['error', 'warning', 'info'].indexOf(severity));
  await page.selectOption('select[name=severity]', index);
  await page.fill('input[name=q]', query);
  await page.waitForFunction(([index, query]) => {
    const table = document.getElementById('findings-table');
    return table && table.dataset.severity === index && table.dataset.query === query;
  }, [index, query.trim().toLowerCase()], { timeout: 10000 });
}

function named(finding, query) {
  return `${finding.resource}\n${finding.alarm ?? ''}`.toLowerCase().includes(query.toLowerCase());
}

async function check() {
  const s = report.summary;
  for (const field of ['resources', 'required', 'covered', 'missing', 'misconfigured', 'unresolved', 'exempted', 'orphaned', 'coverage_percent']) {
    assert.equal(Number(await text(`#summary-${field}`)), s[field], `headline ${field}`);
  }
  for (const severity of ['error', 'warning', 'info']) {
    assert.equal(Number(await text(`#summary-findings-${severity}`)), s.findings[severity] ?? 0, `headline ${severity} findings`);
  }
  await checkAccounts(s.accounts ?? []);
  // The page's own style applies (its Content-Security-Policy hash matches).
  assert.equal(await page.$eval('section', (section) => getComputedStyle(section).borderTopLeftRadius), '8px', 'the inline style applies');
  const all = report.findings;
  expectTable(await table(), all, all.length);

  await screenshots('desktop-1280', 1280, 900);

  // Severity narrows the table to that severity's findings, in the report's order.
  const warnings = all.filter((f) => f.severity === 'warning');
  await setFilters('warning', '');
  expectTable(await table(), warnings, all.length);

  // A search by name narrows it to the findings whose resource or alarm holds the text.
  const query = searchTerm(all);
  await setFilters('', query);
  const found = all.filter((f) => named(f, query));
  assert.ok(found.length > 0 && found.length < all.length, `the search "${query}" must narrow the table`);
  expectTable(await table(), found, all.length);

  // Both at once, and then nothing.
  await setFilters('error', query);
  expectTable(await table(), found.filter((f) => f.severity === 'error'), all.length);
  await setFilters('', 'no-such-resource-anywhere');
  expectTable(await table(), [], all.length);
  await setFilters('', '');
  expectTable(await table(), all, all.length);

  if (all.length > 100) {
    await page.click('#page-next');
    const second = await table();
    assert.equal(second.rows[0].resource, all[100].resource, 'the second page starts at the 101st finding');
    assert.equal(second.count, `Showing 101\u2013${Math.min(200, all.length)} of ${all.length}`);
    await page.click('#page-prev');
  }

  // A row opens to its message, remediation and the policy line that required it.
  await page.click('#findings-body > tr:first-child summary');
  const details = await text('#findings-body > tr:first-child details');
  assert.ok(details.includes(all[0].message), 'the expanded row shows the message');
  assert.ok(details.includes(all[0].remediation), 'the expanded row shows the remediation');
  if (all[0].origin) assert.ok(details.includes(`${all[0].origin.file}:${all[0].origin.line}`), 'the expanded row shows the policy line');

  await screenshots('phone-390', 390, 844);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'nothing is wider than a 390-pixel phone');

  // Printed: no filters or pager, and a PDF to look at.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.$eval('#filters', (form) => getComputedStyle(form).display), 'none', 'print hides the filters');
  await page.pdf({ path: path.join(artifacts, 'print.pdf') });
  await page.emulateMedia({ media: 'screen' });
}

/// The per-account table (a multi-account report only): one row per JSON row, every figure the same.
async function checkAccounts(accounts) {
  const rows = await page.$$eval('#accounts-table tbody tr', (trs) => trs.map((tr) =>
    Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((cell) => [cell.dataset.field, cell.textContent]))));
  assert.equal(rows.length, accounts.length, 'one row per account');
  accounts.forEach((account, i) => {
    const row = rows[i];
    assert.equal(row.account, account.account, `row ${i} account`);
    for (const field of ['resources', 'required', 'covered', 'missing', 'misconfigured']) {
      assert.equal(Number(row[field]), account[field], `${account.account} ${field}`);
    }
    assert.equal(row.coverage_percent, `${account.coverage_percent}%`, `${account.account} coverage`);
    for (const severity of ['error', 'warning', 'info']) {
      assert.equal(Number(row[`findings-${severity}`]), account.findings[severity] ?? 0, `${account.account} ${severity} findings`);
    }
    assert.equal(row.unknown_regions, (account.unknown_regions ?? []).join(', ') || '\u2014', `${account.account} unknown regions`);
  });
}

/// A name that some findings have and others do not: the last part of a resource in the middle of the list.
function searchTerm(findings) {
  const counts = new Map();
  for (const f of findings) {
    const name = f.resource.split(/[:/]/).pop();
    if (name.length >= 4) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const names = [...counts.keys()].sort();
  return names[Math.floor(names.length / 2)];
}

async function screenshots(name, width, height) {
  await page.setViewportSize({ width, height });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function hostile() {
  const inert = async () => page.evaluate(() => ({
    scripts: [...document.querySelectorAll('script')].map((s) => s.type || 'classic'),
    images: document.querySelectorAll('img, iframe, object, embed, link, base, meta[http-equiv=refresh]').length,
    handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${el.tagName} ${a.name}`)),
    text: document.body.textContent,
  }));
  const assertInert = (state, when) => {
    assert.deepEqual(state.scripts, ['application/json', 'classic'], `${when}: only the data island and the page's own script`);
    assert.equal(state.images, 0, `${when}: no element that loads`);
    assert.deepEqual(state.handlers, [], `${when}: no event handler attribute`);
    for (const value of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '</script>']) {
      assert.ok(state.text.includes(value), `${when}: ${value} is shown as text`);
    }
  };
  assertInert(await inert(), 'as rendered');
  // Rows the script builds (from the data island) are text too.
  await setFilters('', '<');
  await page.$$eval('details', (all) => all.forEach((d) => { d.open = true; }));
  const state = await inert();
  assertInert(state, 'after the script rendered rows');
  assert.ok((await table()).rows.length > 0, 'the search for "<" finds the hostile rows');
  await screenshots('hostile-desktop-1280', 1280, 900);
}

async function drift() {
  const s = report.summary;
  for (const field of ['in_sync', 'missing_live', 'changed', 'dashboard_body', 'unmanaged', 'unresolved', 'ignored']) {
    assert.equal(Number(await text(`#summary-${field}`)), s[field], `headline ${field}`);
  }
  expectTable(await table(), report.findings, report.findings.length);
  const body = report.findings.find((f) => f.diff);
  assert.ok(body, 'the fixture has a dashboard diff');
  await page.click(`#findings-body > tr:nth-child(${report.findings.indexOf(body) + 1}) summary`);
  const added = await page.$$eval('pre.diff span.add', (spans) => spans.map((s) => s.textContent));
  assert.deepEqual(added, body.diff.split('\n').filter((line) => line.startsWith('+')));
  await screenshots('drift-desktop-1280', 1280, 900);
  await screenshots('drift-phone-390', 390, 844);
}

async function measure() {
  const timing = await page.evaluate(() => ({
    first_contentful_paint_ms: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    load_event_ms: performance.getEntriesByType('navigation')[0]?.loadEventEnd,
  }));
  // Filtering and searching run synchronously in the page; timed there, without the driver's round trips.
  Object.assign(timing, await page.evaluate(() => {
    const form = document.getElementById('filters');
    const time = (change, event) => {
      change();
      const started = performance.now();
      form.dispatchEvent(new Event(event, { bubbles: true, cancelable: true }));
      return performance.now() - started;
    };
    return {
      severity_filter_ms: time(() => { form.elements.severity.value = '1'; }, 'input'),
      next_page_ms: (() => { const started = performance.now(); document.getElementById('page-next').click(); return performance.now() - started; })(),
      search_ms: time(() => { form.elements.severity.value = ''; form.elements.q.value = 'queue'; }, 'submit'),
    };
  }));
  assert.equal(typeof timing.first_contentful_paint_ms, 'number', 'the page painted');
  console.log(JSON.stringify({ bytes: fs.statSync(htmlPath).size, findings: report.findings.length, ...timing }));
}
