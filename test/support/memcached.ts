// Helpers for the memcached backend tests: private memcached processes that a test may stop, pause
// and restart (never the shared servers from test/support/servers.ts), and small text-protocol
// probes (meta get shows an item's remaining TTL without waiting for it to expire).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './net.js';

const MEMCACHED = process.env.MEMCACHED_BIN ?? 'memcached';

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** SASL PLAIN credentials a private memcached requires (memcached -S). */
export interface SaslLogin {
  username: string;
  password: string;
}

/** True when `saslpasswd2` (Debian package sasl2-bin) is there to create memcached's SASL user database. */
export const canCreateSaslUsers: boolean = spawnSync('saslpasswd2', ['-h'], { stdio: 'ignore' }).error === undefined;

/** A memcached process owned by one test file. */
export class PrivateMemcached {
  readonly port: number;
  readonly #env: NodeJS.ProcessEnv;
  readonly #saslArgs: string[];
  #child: ChildProcess | undefined;

  private constructor(port: number, sasl?: SaslLogin) {
    this.port = port;
    this.#env = { ...process.env };
    this.#saslArgs = [];
    if (sasl !== undefined) {
      // memcached -S reads $SASL_CONF_PATH/memcached.conf; the login lives in a Cyrus sasldb file.
      // Without saslpasswd2 the database stays empty and every login is refused.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-sasl-'));
      tempDirs.add(dir);
      const db = path.join(dir, 'sasldb2');
      writeFileSync(path.join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
      if (canCreateSaslUsers) {
        execFileSync('saslpasswd2', ['-p', '-c', '-f', db, '-a', 'memcached', sasl.username], {
          input: sasl.password,
          stdio: ['pipe', 'ignore', 'ignore'],
        });
      }
      this.#env.SASL_CONF_PATH = dir;
      this.#saslArgs.push('-S');
    }
  }

  /** `"127.0.0.1:<port>"`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts memcached on a free port (requiring `sasl` logins if given) and waits until it accepts connections. */
  static async start(sasl?: SaslLogin): Promise<PrivateMemcached> {
    const server = new PrivateMemcached(await freePort(), sasl);
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port. */
  async restart(): Promise<void> {
    const args = ['-l', '127.0.0.1', '-p', String(this.port), '-U', '0', '-u', 'root', '-m', '64', '-c', '1024', ...this.#saslArgs];
    const child = spawn(MEMCACHED, args, { stdio: 'ignore', env: this.#env });
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot start ${MEMCACHED} (set MEMCACHED_BIN): ${error.message}`))),
    );
    failed.catch(() => {});
    this.#child = child;
    running.add(child);
    const deadline = Date.now() + 5000;
    while (!(await Promise.race([canConnect(this.port), failed]))) {
      if (Date.now() > deadline) throw new Error(`memcached did not start on port ${this.port}`);
      await sleep(20);
    }
  }

  /** Kills the process (SIGKILL) and waits until the port refuses connections. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    running.delete(child);
    while (await canConnect(this.port)) await sleep(20);
  }

  /** Freezes the process (SIGSTOP): connections are accepted by the kernel but never answered. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Resumes a paused process. */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}

/** Sends one text-protocol command and resolves with the reply up to `terminator`. */
export async function textCommand(address: string, command: string, terminator: RegExp): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to "${command}" from ${address}`));
    }, 2000);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (terminator.test(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(`${command}\r\n`);
  });
}

/**
 * The remaining time to live memcached reports for `key` (meta get with the `t` flag): seconds,
 * -1 for "never expires", or null when the key is absent. (memcached 1.6.18's `me` command prints
 * the TTL negated, which makes 1 s and "never" look alike.)
 */
export async function remainingTtl(address: string, key: string): Promise<number | null> {
  const reply = await textCommand(address, `mg ${key} t`, /\r\n$/);
  if (reply.startsWith('EN')) return null;
  const match = /^HD t(-?\d+)/.exec(reply);
  if (!match) throw new Error(`unexpected reply to "mg": ${reply}`);
  return Number(match[1]);
}

/** memcached's `stats` as a map of name to value. */
export async function serverStats(address: string): Promise<Map<string, string>> {
  const reply = await textCommand(address, 'stats', /END\r\n$/);
  const stats = new Map<string, string>();
  for (const line of reply.split('\r\n')) {
    const [kind, name, value] = line.split(' ');
    if (kind === 'STAT' && name !== undefined && value !== undefined) stats.set(name, value);
  }
  return stats;
}

export { freePort } from './net.js';

/**
 * Registers before/after hooks that start `count` private memcached servers (free ports) and kill them
 * afterwards (resumed first, in case a test paused one). The returned array fills in at `before`.
 */
export function usePrivateMemcached(
  count: number,
  hooks: { before(fn: () => Promise<void>): unknown; after(fn: () => Promise<void>): unknown },
): PrivateMemcached[] {
  const servers: PrivateMemcached[] = [];
  hooks.before(async () => {
    servers.push(...(await Promise.all(Array.from({ length: count }, () => PrivateMemcached.start()))));
  });
  hooks.after(async () => {
    for (const server of servers) {
      server.resume();
      await server.kill();
    }
  });
  return servers;
}
