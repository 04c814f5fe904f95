// Waiting, bounded: sleep, polling until a condition holds, a promise or null after a delay.
//
//   import { sleep, until, pollUntil, within } from '../lib/wait.mjs';
//   const row = await until(() => svc.sql(...).then((r) => r.rows[0]), 'the delivery', 15_000);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() every `interval` ms until it returns a truthy value or `timeout` ms pass. */
export async function pollUntil(fn, { timeout, interval = 100 }) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) return last;
    await sleep(interval);
  }
}

/** Resolves what `promise` resolves, or null after `ms` (the timer is cleared either way). */
export function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `fn()` is truthy (polling every 50 ms); returns its value. */
export async function until(fn, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
