// Helpers the browser tests share: loopback ports, waiting for a daemon,
// TOTP codes as an authenticator app computes them, axe-core and the page
// width check.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

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

// Four consecutive free ports (peer, api, links, console), picked by
// tools/free_port_base.py as the C++ tests and the shell drivers pick theirs:
// below Linux's ephemeral range and claimed in /tmp/schakel-test-ports (a
// daemon binds its ports seconds after they were picked, and meanwhile any
// outgoing connection of a test running beside this one may be given an
// ephemeral port; a CI run once saw a console port there never open).
const FREE_PORT_BASE = fileURLToPath(new URL('../../tools/free_port_base.py', import.meta.url));

export async function freePortBase() {
  const out = execFileSync('python3', [FREE_PORT_BASE], { encoding: 'utf8', timeout: 30000 }).trim();
  const base = Number(out);
  assert.ok(Number.isInteger(base) && base >= 1024 && base + 3 < 32768, `free_port_base.py printed "${out}"`);
  return base;
}

// Resolves once something listens on 127.0.0.1:port; rejects after `ms`,
// or at once when `child` (the daemon meant to listen) has exited, with what
// it wrote to stderr (`logOf()`), so that a failure says why.
export function waitForPort(port, ms, child = null, logOf = () => '') {
  const deadline = Date.now() + ms;
  const why = () => {
    const log = String(logOf() || '').trim().split('\n').slice(-15).join('\n');
    return log ? `; the daemon's stderr ended with:\n${log}` : '; the daemon wrote nothing to stderr';
  };
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child && child.exitCode !== null) {
        reject(new Error(`the daemon meant to listen on port ${port} exited with ${child.exitCode}${why()}`));
        return;
      }
      if (child && child.signalCode !== null) {
        reject(new Error(`the daemon meant to listen on port ${port} was ended by ${child.signalCode}${why()}`));
        return;
      }
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open within ${ms} ms${child ? why() : ''}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
