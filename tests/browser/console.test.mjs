// Real-browser test of the staff console (issue #10), run by ctest (label
// "browser"): two real schakeld nodes on loopback (a school and a wijkteam,
// partners of each other) set up with the schakel CLI, driven with Debian's
// chromium through playwright-core. TOTP codes are computed from the secret
// that `schakel user passwd` prints, as an authenticator app would.
//
// Usage: node console.test.mjs   (env SCHAKEL_BIN: folder with schakel and
// schakeld; SCHAKEL_SCREENSHOTS: where to put console-*.png)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { axe, base32Decode, fitsWidths, freePortBase, totp, waitForPort } from './support.mjs';

const BIN = process.env.SCHAKEL_BIN || path.resolve('build');
const SHOTS = process.env.SCHAKEL_SCREENSHOTS || path.join(BIN, 'screenshots');
const PASSWORD = 'een heel lang wachtwoord voor de test';
const STEP_TIMEOUT = 20000;
mkdirSync(SHOTS, { recursive: true });

function log(...args) { console.log('[console.test]', ...args); }

function schakel(args, input = '') {
  const r = spawnSync(path.join(BIN, 'schakel'), args, { input, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`schakel ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'schakel-console-'));
const daemons = [];
let browser;

async function makeNode(name, id, type) {
  const dir = path.join(tmp, name);
  const base = await freePortBase();
  schakel(['init', '--dir', dir, '--name', `Org ${name}`, '--org-id', id, '--org-type', type,
           '--listen', `127.0.0.1:${base}`]);
  let cfg = readFileSync(path.join(dir, 'schakel.toml'), 'utf8');
  cfg = cfg.replace(/\[delivery\][^[]*/, '[delivery]\nretry_base_ms = 100\nretry_max_ms = 500\n\n');
  writeFileSync(path.join(dir, 'schakel.toml'), cfg);
  return { name, id, dir, console: base + 3, users: {} };
}

// Staff and coordinators wait for a coordinator's confirmation: the node's
// first coordinator (made at once) confirms them offline with its token; a
// node without one gets 'eerste-zorg' first.
function addUser(node, user, role) {
  if (role === 'staff' && !node.coordinator) addUser(node, 'eerste-zorg', 'coordinator');
  const added = schakel(['user', 'add', '--dir', node.dir, '--name', user, '--role', role]);
  const token = added.trim().split('\n').pop();
  if (added.includes('cannot sign in until')) {
    const file = path.join(node.dir, 'confirm.token');
    writeFileSync(file, node.coordinator);
    schakel(['user', 'confirm', user, '--offline', '--dir', node.dir, '--token-file', file]);
  } else if (role === 'coordinator' && !node.coordinator) {
    node.coordinator = token;
  }
  const out = schakel(['user', 'passwd', '--dir', node.dir, user], PASSWORD + '\n');
  const m = out.match(/secret=([A-Z2-7]+)&issuer=Schakel/);
  assert.ok(m, 'user passwd printed an otpauth URI');
  node.users[user] = base32Decode(m[1]);
}

function pair(a, b) {
  const fp = schakel(['node', 'fingerprint', '--dir', b.dir]).trim();
  schakel(['partner', 'add', '--allow-local-address', '--dir', a.dir, '--card', path.join(b.dir, 'node-card.json'), '--fingerprint', fp]);
}

async function startDaemon(node) {
  const child = spawn(path.join(BIN, 'schakeld'), ['--dir', node.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => { node.log = (node.log || '') + d; });
  daemons.push(child);
  await waitForPort(node.console, 20000, child, () => node.log);
}

async function signIn(node, user) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'nl-NL' });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`https://127.0.0.1:${node.console}/`);
  assert.match(page.url(), /\/aanmelden$/);
  await page.getByLabel('Gebruikersnaam').fill(user);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Volgende' }).click()]);
  if (!/\/aanmelden\/code$/.test(page.url())) {
    throw new Error(`password step of ${user} failed: ${page.url()}: ${await page.textContent('body')}`);
  }
  await page.getByLabel('Zescijferige code').fill(totp(node.users[user]));
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Aanmelden' }).click()]);
  if (!/\/$/.test(page.url())) {
    await page.screenshot({ path: path.join(SHOTS, `console-signin-failed-${user}.png`), fullPage: true });
    throw new Error(`sign-in of ${user} did not reach the start page: ${page.url()}: ${await page.textContent('body')}`);
  }
  assert.match(await page.textContent('header'), new RegExp(`Aangemeld als ${user}`));
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-schakel_sessie');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict', 'strict session cookie');
  return page;
}

// Reloads `url` until `predicate(page)` holds, for at most `ms`.
async function poll(page, url, predicate, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    await page.goto(url);
    if (await predicate(page)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(300);
  }
}

// Every page the test shows: axe-core (WCAG 2.1 AA, no violations), no wider
// than the window at 1280 px and at 390 px, and a screenshot.
const shot = async (page, name) => {
  await axe(page, `console: ${name}`);
  await fitsWidths(page, `console: ${name}`);
  await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
};

function isoDate(d) { return d.toISOString().slice(0, 10); }

async function main() {
  const school = await makeNode('school', 'school-a', 'school');
  const wijkteam = await makeNode('wijkteam', 'wijkteam-b', 'wijkteam');
  pair(school, wijkteam);
  pair(wijkteam, school);
  addUser(school, 'zorg', 'coordinator');
  addUser(school, 'mentor', 'staff');
  addUser(school, 'privacy', 'auditor');
  addUser(school, 'beheer', 'admin');
  addUser(wijkteam, 'hulpverlener', 'staff');
  addUser(wijkteam, 'teamleider', 'coordinator');
  await startDaemon(school);
  await startDaemon(wijkteam);
  log('nodes up; console ports', school.console, wijkteam.console);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });

  // 0. The coordinator reads the student into the register; a bad file is
  // refused with its line number and nothing of it is stored.
  const zorg = await signIn(school, 'zorg');
  await zorg.goto(`https://127.0.0.1:${school.console}/leerlingen`);
  await zorg.getByLabel('CSV').fill('student_id,name,birth_date\nstu-1,Sanne de Vries,2016-05-01\nstu-2,Noor,2016-02-30\n');
  await zorg.getByRole('button', { name: 'Inlezen' }).click();
  assert.match(await zorg.textContent('main'), /Niets ingelezen: line 3: birth_date/);
  assert.doesNotMatch(await zorg.textContent('table'), /stu-1/);
  await zorg.getByLabel('CSV').fill('student_id,name,birth_date\nstu-1,Sanne de Vries,2016-05-01\n');
  await zorg.getByRole('button', { name: 'Inlezen' }).click();
  await zorg.waitForURL(/melding=ingelezen/);
  assert.match(await zorg.textContent('table'), /stu-1.*Sanne de Vries.*2016-05-01/);
  await shot(zorg, 'students');

  // 1. Sign in with TOTP, create a case.
  const mentor = await signIn(school, 'mentor');
  await shot(mentor, 'home');
  await mentor.goto(`https://127.0.0.1:${school.console}/dossiers`);
  // The groeidocument is a form with a field per item (no JSON): a list
  // gets a row with "Regel toevoegen", a wrong field is named beside it.
  await mentor.getByLabel('Leerlingnummer').fill('stu-1');
  await mentor.getByLabel('Geboortedatum').fill('2016-05-01');
  await mentor.locator('#id_name').fill('Sanne de Vries');
  await mentor.locator('#hv_question').fill('Hoe krijgen we Sanne weer op school?');
  await mentor.locator('#hv_signals_0').fill('trekt zich terug in de klas');
  await mentor.getByRole('button', { name: 'Regel toevoegen: Signalen' }).click();
  await mentor.locator('#hv_signals_1').fill('moe in de ochtend');
  assert.equal(await mentor.locator('#hv_signals_0').inputValue(), 'trekt zich terug in de klas', 'kept on add');
  await mentor.locator('#gz_notes').fill('Ouders gescheiden.\nMoeder werkt in ploegendienst.');
  await mentor.locator('#vz_unauthorised').fill('veel');
  await mentor.getByRole('button', { name: 'Dossier opslaan' }).first().click();
  assert.match(await mentor.textContent('#vz_unauthorised-fout'), /Vul een heel getal in/);
  assert.equal(await mentor.locator('#gz_notes').inputValue(), 'Ouders gescheiden.\nMoeder werkt in ploegendienst.');
  await shot(mentor, 'case-form-error');
  await mentor.locator('#vz_unauthorised').fill('16');
  await mentor.getByRole('button', { name: 'Dossier opslaan' }).first().click();
  await mentor.waitForURL(/\/dossiers\/casus-/);
  const caseUrl = mentor.url();
  assert.match(await mentor.textContent('main'), /Hoe krijgen we Sanne weer op school\?/);
  // Edit: multi-line text, a row removed, an action added; a new version.
  await mentor.locator('#ond_notes').fill('Cijfers dalen sinds oktober.\nPraktijkvakken gaan goed.');
  await mentor.getByRole('button', { name: 'Verwijderen: Signaal 2' }).click();
  await mentor.locator('#act_0_what').fill('Intake wijkteam');
  await mentor.locator('#act_0_who').fill('wijkteam');
  await mentor.locator('#act_0_when').fill('2026-12-10');
  await mentor.getByRole('button', { name: 'Nieuwe versie opslaan' }).first().click();
  await mentor.getByText(/, versie 2, bijgewerkt/).waitFor({ timeout: 10000 });
  const summary = mentor.locator('main section.categorie');
  const text = (await summary.allTextContents()).join(' ');
  assert.match(text, /Cijfers dalen sinds oktober\.\s*Praktijkvakken gaan goed\./);
  assert.match(text, /Ongeoorloofd verzuim \(uren in 4 weken\)\s*16/);
  assert.match(text, /10 december 2026/);
  assert.doesNotMatch(text, /moe in de ochtend/);
  // No JSON key anywhere a person reads: every label is Dutch text.
  const labels = await mentor.locator('main section.categorie :is(h2, dt)').allTextContents();
  assert.ok(labels.length >= 8, `labels on the dossier page: ${labels}`);
  for (const l of labels) assert.doesNotMatch(l, /^[a-z0-9_]+$/, `label '${l}' is a key`);
  await shot(mentor, 'case');

  // 2. A share refused with its reason shown (no consent yet).
  const askShare = async () => {
    await mentor.goto(caseUrl);
    await mentor.getByLabel('Partner').selectOption('wijkteam-b');
    await mentor.getByLabel('Doel', { exact: true }).selectOption('doorverwijzing');
    // Nothing is ticked beforehand (privacy by default): choose.
    const share = mentor.locator('form[action="/delen/voorbeeld"]');
    assert.equal(await share.locator('input[type=checkbox]:checked').count(), 0, 'no category pre-ticked');
    for (const c of ['identificatie', 'hulpvraag', 'gezinssituatie']) await share.locator(`#deel-${c}`).check();
    await mentor.getByRole('button', { name: 'Bekijk wat er gedeeld wordt' }).click();
    await mentor.waitForURL(/\/delen\/voorbeeld$/);
  };
  await askShare();
  assert.match(await mentor.textContent('h1'), /Deling geweigerd/);
  assert.match(await mentor.textContent('main'), /geen geldige toestemming van een ouder of voogd/);
  assert.equal(await mentor.getByRole('button', { name: 'Verzenden' }).count(), 0);
  await shot(mentor, 'share-refused');

  // 3. The coordinator records the parent's consent (not for gezinssituatie).
  // (The same page also holds the form that asks the family through Schakel.)
  await zorg.goto(`https://127.0.0.1:${school.console}/toestemmingen?leerling=stu-1`);
  const record = zorg.locator('form[action="/toestemmingen"]');
  await record.getByLabel('Gegeven door').selectOption('ouder');
  await record.getByLabel('Doel').selectOption('doorverwijzing');
  await record.getByLabel(/^Ontvangers/).fill('wijkteam');
  await record.getByLabel('Identificatie').check();
  await record.getByLabel('Hulpvraag').check();
  await record.getByLabel('Geldig vanaf').fill(isoDate(new Date(Date.now() - 30 * 86400e3)));
  await record.getByLabel('Bewijs (bijv. getekend formulier, datum)').fill('Getekend formulier moeder');
  await record.getByRole('button', { name: 'Toestemming vastleggen' }).click();
  await zorg.waitForURL(/melding=vastgelegd/);
  assert.match(await zorg.textContent('table'), /Getekend formulier moeder/);
  await shot(zorg, 'consent');

  // 4. Before choosing, the form says per category what may go.
  await mentor.goto(caseUrl);
  await mentor.getByLabel('Partner').selectOption('wijkteam-b');
  await mentor.getByLabel('Doel', { exact: true }).selectOption('doorverwijzing');
  await mentor.locator('form[action="/delen/voorbeeld"]').getByRole('button', { name: 'Toets per categorie' }).click();
  await mentor.waitForURL(/\/delen\/toets$/);
  assert.match(await mentor.textContent('h1'), /Delen: wat mag er mee/);
  assert.match(await mentor.textContent('label[for="deel-identificatie"]'), /mag mee/);
  assert.match(await mentor.textContent('label[for="deel-hulpvraag"]'), /mag mee/);
  assert.match(await mentor.textContent('label[for="deel-gezinssituatie"]'), /mag niet mee: De toestemming noemt deze categorie niet/);
  assert.equal(await mentor.locator('input[type=checkbox]:checked').count(), 0, 'the check ticks nothing');
  assert.equal(await mentor.locator('#to').inputValue(), 'wijkteam-b');
  await shot(mentor, 'share-check');

  // 4a. The preview shows what goes and what is withheld and why; then send.
  await askShare();
  assert.match(await mentor.textContent('h1'), /Voorbeeld van de deling/);
  assert.match(await mentor.textContent('.gaat'), /Hulpvraag/);
  assert.match(await mentor.textContent('.gaat'), /Identificatie/);
  assert.match(await mentor.textContent('.blijft'), /Gezinssituatie/);
  assert.match(await mentor.textContent('main'), /De toestemming noemt deze categorie niet/);
  await shot(mentor, 'share-preview');
  await mentor.getByRole('button', { name: 'Verzenden' }).click();
  await mentor.waitForURL(/\/delen$/);
  assert.match(await mentor.textContent('main'), /Berichtnummer/);

  // 4b. A dossier link for someone without a node: URL and code shown once.
  // The link form's check keeps what was filled in.
  await mentor.goto(caseUrl);
  await mentor.getByLabel('Voor (naam en functie)').fill('J. de Boer (wijkteam, zonder knooppunt)');
  await mentor.getByLabel('Soort organisatie').selectOption('wijkteam');
  await mentor.getByLabel('Doel van de link').selectOption('doorverwijzing');
  await mentor.locator('form[action$="/link"]').getByRole('button', { name: 'Toets per categorie' }).click();
  await mentor.waitForURL(/\/link\/toets$/);
  assert.match(await mentor.textContent('h1'), /Dossierlink: wat mag er mee/);
  assert.match(await mentor.textContent('label[for="link-hulpvraag"]'), /mag mee/);
  assert.match(await mentor.textContent('label[for="link-gezinssituatie"]'), /mag niet mee/);
  assert.equal(await mentor.getByLabel('Voor (naam en functie)').inputValue(), 'J. de Boer (wijkteam, zonder knooppunt)');
  await shot(mentor, 'link-check');
  for (const c of ['identificatie', 'hulpvraag']) await mentor.locator(`#link-${c}`).check();
  await mentor.getByRole('button', { name: 'Link maken' }).click();
  await mentor.waitForURL(/\/link$/);
  assert.match(await mentor.textContent('h1'), /Dossierlink gemaakt/);
  assert.match(await mentor.textContent('.link-url'), /\/l\/[A-Za-z0-9_-]+/);
  assert.match(await mentor.textContent('.link-code'), /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
  await shot(mentor, 'link');

  // 5. At the partner it waits in the coordinators' queue; the team leader
  // assigns it; then it is in the worker's inbox, without the withheld category.
  const wt = await signIn(wijkteam, 'hulpverlener');
  const lead = await signIn(wijkteam, 'teamleider');
  const inboxUrl = `https://127.0.0.1:${wijkteam.console}/inbox`;
  await poll(lead, inboxUrl, async (p) => /stu-1/.test(await p.textContent('main')), 30000, 'the share in the queue');
  await wt.goto(inboxUrl);
  assert.doesNotMatch(await wt.textContent('main'), /stu-1/);
  await lead.locator('main table a').first().click();
  await lead.getByLabel('Gebruikersnaam van de collega').fill('hulpverlener');
  await lead.getByRole('button', { name: 'Toewijzen' }).click();
  await lead.waitForURL(/\/inbox\/m-/);
  await shot(lead, 'inbox-assigned');
  // What is new: the start page counts it, the inbox marks it, until opened.
  await wt.goto(`https://127.0.0.1:${wijkteam.console}/`);
  assert.match(await wt.textContent('main'), /1 nieuwe ontvangen deling/);
  await shot(wt, 'home-waiting');
  await wt.goto(inboxUrl);
  assert.match(await wt.textContent('main'), /stu-1/);
  assert.match(await wt.textContent('main table'), /nieuw/);
  await shot(wt, 'inbox');
  await wt.locator('main table a').first().click();
  const itemUrl = wt.url();
  assert.match(await wt.textContent('main'), /Hoe krijgen we Sanne weer op school\?/);
  assert.doesNotMatch(await wt.textContent('main'), /Ouders gescheiden/);
  await shot(wt, 'inbox-item');
  await wt.goto(inboxUrl);
  assert.doesNotMatch(await wt.textContent('main table'), /nieuw/);
  await wt.goto(`https://127.0.0.1:${wijkteam.console}/`);
  assert.match(await wt.textContent('main'), /Er wacht niets op u/);
  await wt.goto(itemUrl);

  // 6. The coordinator sees the share that relied on the consent, withdraws
  // it, and the partner's copy is gone.
  const consentsUrl = `https://127.0.0.1:${school.console}/toestemmingen?leerling=stu-1`;
  await poll(zorg, consentsUrl, async (p) => /bezorgd/.test(await p.textContent('table')), 30000, 'delivered state');
  assert.match(await zorg.textContent('table'), /dossierlink l-[0-9a-f]+ voor J\. de Boer .*: beschikbaar/);
  await zorg.getByRole('button', { name: 'Intrekken' }).click();
  await zorg.waitForURL(/melding=ingetrokken/);
  assert.match(await zorg.textContent('table'), /ingetrokken/);
  // The dossier link made under it ended with it.
  assert.match(await zorg.textContent('table'), /dossierlink l-[0-9a-f]+ voor J\. de Boer .*: ingetrokken/);
  await shot(zorg, 'consent-withdrawn');
  await poll(wt, itemUrl, async (p) => /De inhoud is verwijderd/.test(await p.textContent('main')), 30000,
             'the partner copy purged');
  assert.doesNotMatch(await wt.textContent('main'), /Hoe krijgen we Sanne/);
  await shot(wt, 'inbox-purged');

  // 7. The auditor finds all of it in the log, verifies and can export it.
  const privacy = await signIn(school, 'privacy');
  await privacy.goto(`https://127.0.0.1:${school.console}/audit`);
  await privacy.getByLabel('Leerling', { exact: true }).fill('stu-1');
  await privacy.getByRole('button', { name: 'Zoeken' }).click();
  await privacy.waitForURL(/leerling=stu-1/);
  const auditText = await privacy.textContent('table');
  for (const action of ['case.create', 'share.denied', 'consent.record', 'share.permitted', 'consent.withdraw',
                        'share.revoked', 'case.read']) {
    assert.ok(auditText.includes(action), `audit log shows ${action}`);
  }
  assert.doesNotMatch(auditText, /Hoe krijgen we Sanne/);  // no case content for auditors
  await shot(privacy, 'audit');
  await privacy.getByRole('button', { name: 'Keten en handtekeningen controleren' }).click();
  assert.match(await privacy.textContent('main'), /ongeschonden/);
  // The family's report (AVG art. 15), as a parent reads it: Dutch, no staff names.
  await privacy.goto(`https://127.0.0.1:${school.console}/audit/inzage?leerling=stu-1`);
  const report = await privacy.textContent('main');
  assert.match(report, /Wat er is gebeurd/);
  assert.match(report, /Gedeeld met /);
  assert.doesNotMatch(report, /mentor|zorg\b|share\.permitted/);
  await shot(privacy, 'family-report');
  // The auditor's internal report: Dutch too, with the users' names.
  await privacy.goto(`https://127.0.0.1:${school.console}/audit/inzage?leerling=stu-1&intern=1`);
  const internal = await privacy.textContent('main');
  assert.match(internal, /Intern verslag/);
  assert.match(internal, /deling toegestaan en klaargezet/);
  assert.match(internal, /mentor, medewerker/);
  assert.doesNotMatch(internal, /share\.permitted|consent\.record/);
  await shot(privacy, 'internal-report');

  // 7b. The pages not shown yet, checked like every other (axe, 1280 and
  // 390 px): the outbox and one share, the roles waiting, the admin page.
  await mentor.goto(`https://127.0.0.1:${school.console}/delingen`);
  await shot(mentor, 'shares');
  await mentor.locator('main table a').first().click();
  await mentor.waitForURL(/\/delingen\/m-/);
  await shot(mentor, 'share');
  await zorg.goto(`https://127.0.0.1:${school.console}/gebruikers/wachtend`);
  await shot(zorg, 'pending-roles');
  const admin = await signIn(school, 'beheer');
  await admin.goto(`https://127.0.0.1:${school.console}/beheer`);
  assert.match(await admin.textContent('main'), /mentor/);
  await shot(admin, 'admin');

  // 8. A staff member is refused the audit pages.
  const refused = await mentor.goto(`https://127.0.0.1:${school.console}/audit`);
  assert.equal(refused.status(), 403);
  assert.match(await mentor.textContent('h1'), /Geen toegang/);
  const refusedExport = await mentor.goto(`https://127.0.0.1:${school.console}/audit/inzage?leerling=stu-1`);
  assert.equal(refusedExport.status(), 403);
  await shot(mentor, 'refused');
  log('all console flows passed');
}

let failed = false;
const overall = setTimeout(() => { console.error('[console.test] overall timeout'); process.exit(1); }, 240000);
try {
  await main();
} catch (e) {
  failed = true;
  console.error('[console.test] FAILED:', e);
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const d of daemons) d.kill('SIGTERM');
  clearTimeout(overall);
  if (!failed) rmSync(tmp, { recursive: true, force: true });
  else console.error('[console.test] node directories kept in', tmp);
}
process.exit(failed ? 1 : 0);
