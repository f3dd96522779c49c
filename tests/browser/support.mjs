// Helpers the browser tests share: loopback ports, waiting for a daemon.
import net from 'node:net';

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
