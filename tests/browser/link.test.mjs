// Real-browser test of a dossier link page (docs/links.md), run by ctest via
// run_link_test.sh: headless Debian chromium driven by playwright-core.
//
//   node link.test.mjs URL CODE SCREENSHOT_DIR
//
// Opens the link, checks the code page shows no content, enters a wrong code
// (error and attempts left shown), then the right one, and checks the content
// shows the allowed categories and not the withheld ones. Screenshots go to
// SCREENSHOT_DIR/link-*.png. Exit code 0 = pass. Every step has a timeout.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [url, code, shots] = process.argv.slice(2);
if (!url || !code || !shots) {
  console.error('usage: node link.test.mjs URL CODE SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
}

const hardStop = setTimeout(() => {
  console.error('FAIL: the browser test did not finish within 90 s');
  process.exit(1);
}, 90_000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  timeout: 30_000,
});
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);

  const first = await page.goto(url, { waitUntil: 'load' });
  check(first.status() === 200, `code page answers 200 (got ${first.status()})`);
  const headers = first.headers();
  check((headers['content-security-policy'] || '').includes("default-src 'none'"), 'CSP header present');
  check(headers['cache-control'] === 'no-store', 'Cache-Control: no-store');
  check(headers['referrer-policy'] === 'no-referrer', 'Referrer-Policy: no-referrer');
  const codePage = await page.textContent('body');
  check(codePage.includes('Toegangscode'), 'code page asks for the Toegangscode');
  check(!codePage.includes('Sanne'), 'code page shows no content');
  check(await page.locator('label[for="code"]').count() === 1, 'the code field has a label');
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('header.site')).backgroundColor);
  check(bg === 'rgb(11, 58, 102)', `the stylesheet is applied (header ${bg})`);
  await page.screenshot({ path: `${shots}/link-1-code-page.png`, fullPage: true });

  await page.fill('#code', 'AAAAA-AAAAA');
  const [wrong] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
  check(wrong.status() === 403, `wrong code answers 403 (got ${wrong.status()})`);
  const wrongText = await page.textContent('body');
  check(wrongText.includes('onjuist') && wrongText.includes('nog 4 pogingen'), 'wrong code: error and attempts left shown');
  check(!wrongText.includes('Sanne'), 'wrong code shows no content');
  await page.screenshot({ path: `${shots}/link-2-wrong-code.png`, fullPage: true });

  await page.fill('#code', code.toLowerCase());
  const [right] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
  check(right.status() === 200, `right code answers 200 (got ${right.status()})`);
  const content = await page.textContent('main');
  check(content.includes('Sanne de Vries'), 'content shows identificatie');
  for (const heading of ['Identificatie', 'Hulpvraag', 'Gezinssituatie', 'Afspraken']) {
    check(await page.locator('h2', { hasText: heading }).count() === 1, `allowed category heading ${heading}`);
  }
  for (const heading of ['Gezondheid', 'Burgerservicenummer', 'Contactgegevens', 'Verzuim']) {
    check(await page.locator('h2', { hasText: heading }).count() === 0, `withheld category ${heading} not shown`);
  }
  check(!content.includes('Slaapproblemen'), 'health notes withheld');
  check(!content.includes('111222333'), 'BSN withheld');
  await page.screenshot({ path: `${shots}/link-3-content.png`, fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: `${shots}/link-4-content-print.png`, fullPage: true });
} catch (e) {
  failures.push(String(e));
  console.error(e);
} finally {
  await browser.close();
  clearTimeout(hardStop);
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all browser checks passed');
