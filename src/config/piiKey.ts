/**
 * The HMAC key for personal data in the hash chain. From `database.piiKey`
 * (CVD_ACTIVITY_PII_KEY: hex when it looks like hex, else its UTF-8 bytes), or
 * else a random key generated once into a file beside the spool and shared by
 * every process of the app on this host. Production deployments with several
 * hosts set CVD_ACTIVITY_PII_KEY so that every host uses the same key.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const MIN_KEY_BYTES = 16;

/** Decodes a configured key, or null when none is configured. Throws when it is too short. */
export function decodePiiKey(raw: string | null | undefined): Buffer | null {
  if (!raw) return null;
  const key = /^(?:[0-9a-f]{2})+$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'utf8');
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(`database.piiKey (CVD_ACTIVITY_PII_KEY) is ${key.length} bytes: allowed at least ${MIN_KEY_BYTES} bytes (32 random bytes as hex recommended)`);
  }
  return key;
}

/** Where the generated key lives for a spool folder: `<spool folder>/../pii.key`. */
export function piiKeyFile(spoolDir: string): string {
  return join(dirname(resolve(spoolDir)), 'pii.key');
}

/** The configured key, else the host's generated key (created on first use, mode 0600, race-safe). */
export function resolvePiiKey(configured: string | null, spoolDir: string): Buffer {
  const key = decodePiiKey(configured);
  if (key) return key;
  const file = piiKeyFile(spoolDir);
  mkdirSync(dirname(file), { recursive: true });
  try {
    const fd = openSync(file, 'wx', 0o600); // exclusive: the first process creates it, the rest read it
    try {
      writeSync(fd, randomBytes(32).toString('hex'));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (let attempt = 0; ; attempt++) {
    const text = readFileSync(file, 'utf8').trim();
    // Another process may have created the file and not yet written it.
    if (text.length >= 2 * MIN_KEY_BYTES || attempt >= 50) return decodePiiKey(text) ?? Buffer.alloc(0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
