// Real-browser test of the permission pages (issue 17,
// docs/consent-requests.md), run by ctest (label "browser"): two real
// schakeld nodes on loopback (a school and a wijkteam, partners), set up and
// driven with the schakel CLI; the parent and the young person answer in
// Debian's chromium (playwright-core), as they would on a phone.
//
// The road: a coordinator asks in the console (the request form, then the
// page with each link and code once and the printable letters) for a
// 13-year-old -> the parent agrees to three of
// five categories, the young person to two of those -> a share carries
// exactly those two -> the young person withdraws on the management page ->
// the partner's copy is purged -> the parent's inzage link shows all of it
// in Dutch. axe-core (WCAG 2.1 AA) runs on every page
// and no page is wider than a 390 px screen. Screenshots:
// SCHAKEL_SCREENSHOTS/consent-*.png.
//
// Usage: node consent.test.mjs FIXTURES_DIR  (env SCHAKEL_BIN: folder with
// schakel and schakeld)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { axe as checkAxe, base32Decode, fitsWidths, freePortBase, totp, waitForPort } from './support.mjs';

const BIN = process.env.SCHAKEL_BIN || path.resolve('build');
const SHOTS = process.env.SCHAKEL_SCREENSHOTS || path.join(BIN, 'screenshots');
const FIXTURES = process.argv[2];
const STEP_TIMEOUT = 20000;
mkdirSync(SHOTS, { recursive: true });
if (!FIXTURES) { console.error('usage: node consent.test.mjs FIXTURES_DIR'); process.exit(2); }

const hardStop = setTimeout(() => { console.error('FAIL: did not finish within 150 s'); process.exit(1); }, 150_000);
function log(...args) { console.log('[consent.test]', ...args); }

function schakel(args, input = '') {
  const r = spawnSync(path.join(BIN, 'schakel'), args, { input, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`schakel ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'schakel-consent-'));
const daemons = [];
let browser;

async function makeNode(name, id, type) {
  const dir = path.join(tmp, name);
  const base = await freePortBase();
  schakel(['init', '--dir', dir, '--name', name === 'school' ? 'Trajectum College' : 'Wijkteam Overvecht',
           '--org-id', id, '--org-type', type, '--listen', `127.0.0.1:${base}`]);
  let cfg = readFileSync(path.join(dir, 'schakel.toml'), 'utf8');
  cfg = cfg.replace(/\[delivery\][^[]*/, '[delivery]\nretry_base_ms = 100\nretry_max_ms = 500\n\n');
  writeFileSync(path.join(dir, 'schakel.toml'), cfg);
  return { name, id, dir, api: base + 1, links: base + 2, console: base + 3, tokens: {}, secrets: {} };
}

// A user and a file with their token; staff wait for the first coordinator's confirmation.
function addUser(node, user, role) {
  const token = schakel(['user', 'add', '--dir', node.dir, '--name', user, '--role', role]).trim().split('\n').pop();
  const file = path.join(node.dir, `${user}.token`);
  writeFileSync(file, token);
  node.tokens[user] = file;
  if (role === 'coordinator' && !node.first) node.first = file;
  else schakel(['user', 'confirm', user, '--offline', '--dir', node.dir, '--token-file', node.first]);
}

const PASSWORD = 'een heel lang wachtwoord voor de test';

// A password and TOTP secret, for the console.
function setPassword(node, user) {
  const out = schakel(['user', 'passwd', '--dir', node.dir, user], PASSWORD + '\n');
  const m = out.match(/secret=([A-Z2-7]+)&issuer=Schakel/);
  assert.ok(m, 'user passwd printed an otpauth URI');
  node.secrets[user] = base32Decode(m[1]);
}

async function signIn(node, user) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'nl-NL', bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`https://127.0.0.1:${node.console}/`);
  await page.getByLabel('Gebruikersnaam').fill(user);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Volgende' }).click()]);
  await page.getByLabel('Zescijferige code').fill(totp(node.secrets[user]));
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Aanmelden' }).click()]);
  assert.match(await page.textContent('header'), new RegExp(`Aangemeld als ${user}`));
  return page;
}

function as(node, user, args) { return schakel([...args, '--dir', node.dir, '--token-file', node.tokens[user]]); }
function asJson(node, user, args) { return JSON.parse(as(node, user, [...args, '--json'])); }

function pair(a, b) {
  const fp = schakel(['node', 'fingerprint', '--dir', b.dir]).trim();
  schakel(['partner', 'add', '--allow-local-address', '--dir', a.dir, '--card', path.join(b.dir, 'node-card.json'), '--fingerprint', fp]);
}

async function startDaemon(node) {
  const child = spawn(path.join(BIN, 'schakeld'), ['--dir', node.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => { node.log = (node.log || '') + d; });
  daemons.push(child);
  await waitForPort(node.api, 20000, child, () => node.log);
  await waitForPort(node.links, 20000, child, () => node.log);
}

async function until(what, ms, predicate) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `consent-${name}.png`), fullPage: true });

// axe-core (WCAG 2.1 AA, no violations) and the page no wider than a 390 px
// screen, or, for a console page, than 1280 px and 390 px.
async function axe(page, what, maxWidth = 390) {
  await checkAxe(page, what);
  await fitsWidths(page, what, maxWidth === 390 ? [390] : [1280, 390]);
  log(`axe ok, fits: ${what}`);
}

function yearsAgo(years) {
  const d = new Date(Date.now() - 40 * 86400000);
  return `${d.getUTCFullYear() - years}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}
function daysAhead(days) { return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10); }

// Opens a grantor's link as on a phone, enters the code: the question.
async function openLink(url, code, who) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'nl-NL', bypassCSP: true,
                                             viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const first = await page.goto(url);
  assert.equal(first.status(), 200);
  const before = await page.textContent('main');
  assert.match(before, /Toegangscode/);
  assert.doesNotMatch(before, /Sanne/, 'nothing is revealed without the code');
  await axe(page, `${who}: code page`);
  await shot(page, `${who}-1-code`);
  await page.getByLabel('Toegangscode').fill(code);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verder' }).click()]);
  return page;
}

async function answer(page, who, categories, name) {
  const main = await page.textContent('main');
  assert.match(main, /Sanne de Vries/);
  assert.match(main, /Wijkteam Overvecht/, 'who would receive it is named');
  assert.equal(await page.locator('input[type=checkbox]:checked').count(), 0, 'nothing is ticked beforehand');
  await axe(page, `${who}: question`);
  await shot(page, `${who}-2-question`);
  for (const c of categories) await page.locator(`#cat_${c}`).check();
  await page.getByLabel(/naam \(als handtekening\)/i).fill(name);
  await Promise.all([page.waitForNavigation(),
                     page.getByRole('button', { name: 'Ik geef toestemming voor wat ik heb aangevinkt' }).click()]);
  assert.match(await page.textContent('main'), /toestemming voor deze gegevens/);
  await axe(page, `${who}: thanks`);
  await shot(page, `${who}-3-answered`);
}

async function main() {
  const school = await makeNode('school', 'school-a', 'school');
  const team = await makeNode('wijkteam', 'wijkteam-b', 'wijkteam');
  pair(school, team);
  pair(team, school);
  schakel(['student', 'load', '--dir', school.dir, '--file', path.join(FIXTURES, 'roster.csv')]);
  addUser(school, 'zorgco', 'coordinator');
  setPassword(school, 'zorgco');
  addUser(school, 'mentor', 'staff');
  addUser(team, 'teamleider', 'coordinator');
  await startDaemon(school);
  await startDaemon(team);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                    args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 30000 });

  // Sanne is 13: her parent and she herself decide.
  const birth = yearsAgo(13);
  as(school, 'zorgco', ['student', 'set', 'stu-1042', '--birth-date', birth]);
  const kase = JSON.parse(readFileSync(path.join(FIXTURES, 'cases', 'sanne.json'), 'utf8'));
  kase.birth_date = birth;
  writeFileSync(path.join(tmp, 'sanne.json'), JSON.stringify(kase));
  as(school, 'mentor', ['case', 'add', '--file', path.join(tmp, 'sanne.json')]);

  // The coordinator asks in the console (a desktop screen: the console is
  // for staff at work).
  const desk = await signIn(school, 'zorgco');
  await desk.goto(`https://127.0.0.1:${school.console}/toestemmingen?leerling=stu-1042`);
  assert.match(await desk.textContent('main'), /Er is nog niemand via Schakel om toestemming gevraagd/);
  await axe(desk, 'console: the request form', 1280);
  await shot(desk, 'console-1-form');
  await desk.locator('#vrz-recipients').fill('wijkteam-b');
  await desk.locator('#vrz-purpose').selectOption('doorverwijzing');
  for (const c of ['identificatie', 'contact', 'hulpvraag', 'gezinssituatie', 'afspraken']) {
    await desk.locator(`#vrz-${c}`).check();
  }
  await desk.locator('#vrz-until').fill(daysAhead(180));
  await Promise.all([desk.waitForNavigation(), desk.getByRole('button', { name: 'Toestemming vragen' }).click()]);
  const made = await desk.textContent('main');
  assert.match(made, /alleen nu/, 'the links and codes are shown once, and it says so');
  await axe(desk, 'console: links, codes and letters', 1280);
  await shot(desk, 'console-2-made');
  const rows = await desk.locator('table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('th, td')].map((td) => td.textContent.trim())));
  const link = (who) => { const r = rows.find((cells) => cells[0].startsWith(who)); return r && { url: r[1], code: r[2] }; };
  const ouder = link('ouder');
  const jongere = link('jongere');
  assert.ok(ouder && jongere, 'a link for the parent and one for the young person');
  // The letters carry the link and a QR code, never the code; each code is
  // on its own slip. Printed, the console's header and the table stay off.
  const letters = await desk.locator('section.brief').evaluateAll((ss) => ss.map((s) => s.innerHTML));
  assert.equal(letters.length, 2);
  for (const l of letters) {
    assert.ok(l.includes('<svg'), 'a QR code in the letter');
    assert.ok(!l.includes(ouder.code) && !l.includes(jongere.code), 'no access code in a letter');
  }
  assert.ok(letters.some((l) => l.includes(ouder.url)) && letters.some((l) => l.includes(jongere.url)));
  await desk.emulateMedia({ media: 'print' });
  assert.equal(await desk.locator('header.site').isVisible(), false, 'the letter prints without the console');
  assert.equal(await desk.locator('.alleen-scherm').isVisible(), false, 'the codes table is not printed');
  await shot(desk, 'console-3-letters-print');
  await desk.emulateMedia({ media: 'screen' });

  const parentPage = await openLink(ouder.url, ouder.code, 'ouder');
  await answer(parentPage, 'ouder', ['identificatie', 'hulpvraag', 'afspraken'], 'M. de Vries');
  const youngPage = await openLink(jongere.url, jongere.code, 'jongere');
  assert.match(await youngPage.textContent('main'), /Je toestemming geldt/, 'the young person is spoken to directly');
  await answer(youngPage, 'jongere', ['hulpvraag', 'afspraken'], 'Sanne');

  // The share carries exactly what both agreed to.
  const shared = asJson(school, 'mentor', ['share', 'casus-2026-0042', '--to', 'wijkteam-b', '--purpose',
    'doorverwijzing', '--allow-partial']);
  const msg = shared.message_id;
  assert.deepEqual([...shared.decision.categories].sort(), ['afspraken', 'hulpvraag']);
  await until('the share to be delivered', 30000,
    () => asJson(school, 'mentor', ['shares']).shares.some((s) => s.message_id === msg && s.state === 'delivered'));
  const received = asJson(team, 'teamleider', ['inbox', 'show', msg]);
  assert.deepEqual(Object.keys(received.summary).filter((k) => ['identificatie', 'contact', 'hulpvraag',
    'gezinssituatie', 'afspraken'].includes(k)).sort(), ['afspraken', 'hulpvraag']);
  log('share delivered with hulpvraag and afspraken only');

  // The young person withdraws on the management page.
  const manage = await openLink(jongere.url, jongere.code, 'jongere-beheer');
  assert.match(await manage.textContent('main'), /Toestemming intrekken/);
  await axe(manage, 'management page');
  await shot(manage, 'jongere-4-manage');
  await Promise.all([manage.waitForNavigation(), manage.getByRole('button', { name: 'Toestemming intrekken' }).click()]);
  assert.match(await manage.textContent('main'), /ingetrokken/);
  await axe(manage, 'withdrawn page');
  await shot(manage, 'jongere-5-withdrawn');

  // The partner's copy is purged.
  // The share is revoked; once the partner confirms the purge it is 'purged'.
  await until('the partner to confirm the purge', 30000,
    () => asJson(school, 'mentor', ['shares']).shares.some((s) => s.message_id === msg && s.state === 'purged'));
  await until('the inbox copy to go', 30000,
    () => !asJson(team, 'teamleider', ['inbox']).inbox.some((i) => i.message_id === msg && i.state !== 'purged'));
  const requests = as(school, 'zorgco', ['consent', 'requests', 'stu-1042']);
  assert.match(requests, /ouder: agreed \(afspraken,hulpvraag,identificatie\)/);
  assert.match(requests, /jongere: withdrawn/);
  // The console's list says the same, in Dutch.
  await desk.goto(`https://127.0.0.1:${school.console}/toestemmingen?leerling=stu-1042`);
  const list = await desk.textContent('main');
  assert.match(list, /ouder: ja voor Identificatie, Hulpvraag, Afspraken|ouder: ja voor Afspraken, Hulpvraag, Identificatie/);
  assert.match(list, /jongere: ingetrokken/);
  await axe(desk, 'console: the requests list', 1280);
  await shot(desk, 'console-4-list');
  log('withdrawn; the partner purged its copy');

  // The parent's inzage link shows all of it, in Dutch.
  const inzage = asJson(school, 'zorgco', ['consent', 'inzage', 'stu-1042', '--for', 'ouder']);
  const report = await openLink(inzage.url, inzage.code, 'inzage');
  const text = await report.textContent('main');
  for (const expected of ['Sanne de Vries', 'Gedeeld met Wijkteam Overvecht: Afspraken, Hulpvraag',
    'Grondslag: toestemming', 'ondertekend als', 'ja gezegd, later ingetrokken', 'Ingetrokken bij Wijkteam Overvecht']) {
    assert.ok(text.includes(expected), `the inzage report says "${expected}"`);
  }
  assert.doesNotMatch(text, /share\.|consent_|mentor|zorgco/, 'no codes or staff names');
  await axe(report, 'inzage report');
  await shot(report, 'inzage-report');
  await report.emulateMedia({ media: 'print' });
  await shot(report, 'inzage-report-print');
}

let failed = false;
try {
  await main();
  console.log('all consent browser checks passed');
} catch (e) {
  failed = true;
  console.error('FAIL:', e);
} finally {
  if (browser) await browser.close();
  for (const d of daemons) d.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(tmp, { recursive: true, force: true });
  clearTimeout(hardStop);
}
process.exit(failed ? 1 : 0);
