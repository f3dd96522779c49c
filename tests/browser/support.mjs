// Helpers the browser tests share: loopback ports, waiting for a daemon,
// TOTP codes as an authenticator app computes them, axe-core and the page
// width check.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// axe-core on the page as it is (WCAG 2.1 A and AA rules): no violations.
export async function axe(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    globalThis.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const found = result.violations.map((v) => `${v.id}: ${v.nodes.length} (${v.help}) at ${v.nodes[0].target}`);
  assert.deepEqual(found, [], `axe on ${what}`);
}

// The page is no wider than the window at each of `widths` (tables scroll
// inside their own box); the viewport is put back afterwards.
export async function fitsWidths(page, what, widths = [1280, 390]) {
  const before = page.viewportSize();
  for (const w of widths) {
    await page.setViewportSize({ width: w, height: 900 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= w, `${what} fits ${w} px (is ${width} px wide)`);
  }
  if (before) await page.setViewportSize(before);
}

// The secret of an otpauth URI (RFC 4648 base32).
export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

// The six-digit TOTP code (RFC 6238, SHA-1, 30 s) for `secret` at `at`.
export function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const o = mac[19] & 0x0f;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(bin % 1000000).padStart(6, '0');
}

// Four consecutive free ports (peer, api, links, console), chosen at random.
export async function freePortBase() {
  const tryBind = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let i = 0; i < 200; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let p = base; p < base + 4 && ok; p++) ok = await tryBind(p);
    if (ok) return base;
  }
  throw new Error('no four free consecutive ports');
}

// Resolves once something listens on 127.0.0.1:port; rejects after `ms`.
export function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
