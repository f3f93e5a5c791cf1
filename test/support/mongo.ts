// Helpers for the MongoBackend suites: unique collections, a raw client to inspect documents, command
// counting, a TCP proxy that can "take the server down", and a private FerretDB (TLS / replica set)
// started on free ports for the tests that need server flags the shared test server does not have.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MongoClient, type Collection, type CommandStartedEvent } from 'mongodb';
import type { MongoBackend } from '../../src/backends/mongo/index.js';
import { mongodbUrl } from './servers.js';
import type { TestCertificates } from './certificates.js';
import { freePort, portOpen } from './net.js';
import { ferretdbBinary } from './binaries.js';

/** The test server's connection string (MONGODB_URL; read on use, so suites that start their own server need none). */
export function url(): string {
  return mongodbUrl();
}
/** Database the suites write to. */
export const DB = 'dogpile_cache_test';

/** A fresh collection name, so suites never see each other's documents. */
export function collectionName(label = 'cache'): string {
  return `${label}_${randomUUID().slice(0, 8)}`;
}

let raw: MongoClient | null = null;

/** A plain driver client to inspect what the backend stored. Close with {@link closeRawClient}. */
export async function rawClient(): Promise<MongoClient> {
  raw ??= await new MongoClient(url(), { serverSelectionTimeoutMS: 5000 }).connect();
  return raw;
}

/** Closes the inspection client. */
export async function closeRawClient(): Promise<void> {
  await raw?.close();
  raw = null;
}

/** A document as stored, for inspection. */
export type RawDocument = { _id: string } & Record<string, unknown>;

/** A collection of the test database, through the inspection client. */
export async function rawCollection(name: string): Promise<Collection<RawDocument>> {
  return (await rawClient()).db(DB).collection<RawDocument>(name);
}

/** True when the test server is FerretDB (its buildInfo carries `ferretdbVersion`). */
export async function isFerretDb(): Promise<boolean> {
  const info = await (await rawClient()).db('admin').command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}

/** Records the commands a backend's client sends (the backend must have `client_options: { monitorCommands: true }`). */
export async function recordCommands(backend: MongoBackend): Promise<{ names: string[]; events: CommandStartedEvent[]; stop(): void }> {
  const client = await backend.getClient();
  const events: CommandStartedEvent[] = [];
  const names: string[] = [];
  const listener = (event: CommandStartedEvent): void => {
    events.push(event);
    names.push(event.commandName);
  };
  client.on('commandStarted', listener);
  return { names, events, stop: () => client.off('commandStarted', listener) };
}

/** A TCP proxy to the test server that can be stopped (server "down") and started again on the same port. */
export class TcpProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** Starts forwarding. */
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  /** Stops listening and cuts every open connection. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** host and port of the test server, for the proxy. */
export function testServerAddress(): { host: string; port: number } {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^:/,]+):(\d+)/.exec(url());
  if (match === null) throw new Error(`MONGODB_URL ${url()} must be a mongodb://host:port/ string for the proxy tests`);
  return { host: match[1] as string, port: Number(match[2]) };
}

/** Why a private FerretDB cannot be started here, or null when it can. */
export function privateFerretDbUnavailable(needsOpenssl = false): string | null {
  if (ferretdbBinary() === null) return 'no ferretdb binary (set FERRETDB_BIN or install it with scripts/services.mjs install)';
  if (needsOpenssl && spawnSync('openssl', ['version']).status !== 0) return 'no openssl to make test certificates';
  return null;
}

/** A FerretDB process of our own. */
export interface PrivateFerretDb {
  /** Plain listener `host:port`. */
  address: string;
  /** TLS listener `host:port`, when started with certificates. */
  tlsAddress: string | null;
  stop(): Promise<void>;
}

/** Where a private FerretDB in `dir` writes its output (errors only: --log-level=error), for the message of a failed start. */
function ferretDbLog(dir: string): { fd: number; tail(): string } {
  const file = path.join(dir, 'ferretdb.log');
  const fd = fs.openSync(file, 'a');
  return {
    fd,
    tail: () => {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
      return text === '' ? '(it printed nothing)' : `its last output: ${text.split('\n').slice(-5).join(' | ')}`;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, log?: { tail(): string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`ferretdb exited with code ${child.exitCode}${log === undefined ? '' : `; ${log.tail()}`}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const timer = setTimeout(() => socket.destroy(), 200);
      socket.once('connect', () => {
        resolve(true);
        socket.destroy();
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ferretdb did not listen on ${port} within ${timeoutMs} ms`);
}

/** FerretDB's command line for an SQLite store in `dir`, listening on 127.0.0.1:`port`. */
function ferretDbArgs(dir: string, port: number, debugPort: number): string[] {
  return [
    '--handler=sqlite',
    `--sqlite-url=${pathToFileURL(dir).href}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--debug-addr=127.0.0.1:${debugPort}`,
    '--telemetry=disable',
    `--state-dir=${dir}`,
    '--log-level=error',
  ];
}

/** This process's environment without FERRETDB_* variables, which would override the command line. */
function ferretDbEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FERRETDB_')));
}

/** Starts a FerretDB on free ports, with a replica set name and/or a TLS listener. */
export async function startPrivateFerretDb(options: { replSetName?: string; certificates?: TestCertificates }): Promise<PrivateFerretDb> {
  const binary = ferretdbBinary();
  if (binary === null) throw new Error('no ferretdb binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-ferretdb-'));
  const [port, debugPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const args = ferretDbArgs(dir, port, debugPort);
  if (options.replSetName !== undefined) args.push(`--repl-set-name=${options.replSetName}`);
  const certs = options.certificates;
  if (certs !== undefined) {
    args.push(
      `--listen-tls=127.0.0.1:${tlsPort}`,
      `--listen-tls-cert-file=${certs.serverCert}`,
      `--listen-tls-key-file=${certs.serverKey}`,
      `--listen-tls-ca-file=${certs.ca}`,
    );
  }
  const env = ferretDbEnv();
  const child = spawn(binary, args, { stdio: 'ignore', env });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 15_000);
    if (certs !== undefined) await waitForPort(tlsPort, child, 15_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address: `127.0.0.1:${port}`, tlsAddress: certs === undefined ? null : `127.0.0.1:${tlsPort}`, stop };
}

export { freePort } from './net.js';
export { makeTestCertificates as makeCertificates, type TestCertificates } from './certificates.js';

/** A private FerretDB that a fault test may kill, restart, hang (SIGSTOP) and resume. Never the shared one. */
export interface ControllableFerretDb {
  /** `mongodb://127.0.0.1:<port>/`, the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** SIGKILL (a crash; SIGCONT first if paused); resolves once the process has exited and its port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it listens. */
  start(): Promise<void>;
  /** SIGSTOP: the port still accepts connections (the kernel's backlog) but nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

const controlled = new Set<ChildProcess>();
process.once('exit', () => {
  // SIGKILL also ends a stopped process.
  for (const child of controlled) child.kill('SIGKILL');
});

/** Starts a {@link ControllableFerretDb} on free ports. */
export async function startControllableFerretDb(): Promise<ControllableFerretDb> {
  const binary = ferretdbBinary();
  if (binary === null) throw new Error('no ferretdb binary (set FERRETDB_BIN or run node scripts/services.mjs install)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dogpile-mongo-faults-'));
  const [port, debugPort] = [await freePort(), await freePort()];
  const args = ferretDbArgs(dir, port, debugPort);
  const env = ferretDbEnv();
  const log = ferretDbLog(dir);
  let child: ChildProcess | null = null;
  const db: ControllableFerretDb = {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    async stop() {
      const running = child;
      child = null;
      if (running === null) return;
      controlled.delete(running);
      if (running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGCONT');
        running.kill('SIGKILL');
        await exited;
      }
      const deadline = Date.now() + 5_000;
      while (await portOpen(port)) {
        if (Date.now() > deadline) throw new Error(`ferretdb port ${port} still open 5 s after the process exited`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async start() {
      if (child !== null) return;
      const started = spawn(binary, args, { stdio: ['ignore', log.fd, log.fd], env });
      started.on('error', () => undefined);
      controlled.add(started);
      child = started;
      await waitForPort(port, started, 15_000, log);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async dispose() {
      await db.stop();
      fs.closeSync(log.fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await db.start();
  return db;
}
