/**
 * Runs test/interop/python/peer.py (a Python oslo.cache region) with Debian's /usr/bin/python3, and the
 * values both sides exchange. Not a test file itself.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter with python3-dogpile.cache, python3-oslo.cache, python3-memcache, python3-etcd3gw. */
export const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./python/peer.py', import.meta.url));
/** Longest a Python peer may run; its startup (oslo.config, oslo.cache) takes well under a second. */
export const PYTHON_TIMEOUT_MS = 20_000;

export type PythonOp =
  | { op: 'set'; key: string; value?: unknown; py?: string }
  | { op: 'get'; key: string; py?: string }
  | { op: 'get_or_create'; key: string; value?: unknown; py?: string; hold?: number }
  | { op: 'delete'; key: string }
  | { op: 'mangle'; key: string };

export interface PythonRequest {
  backend: 'memcached' | 'etcd';
  /** `host:port` */
  server: string;
  distributed_lock?: boolean;
  ops: PythonOp[];
}

export interface PythonResult {
  found?: boolean;
  value?: unknown;
  /** Python's repr() of the value it read or created: shows int vs float, tuple vs list. */
  repr?: string;
  metadata?: { ct: number; v: number };
  mangled?: string;
  raw?: string | null;
  raw_matches?: boolean;
  /** repr(value) == repr(expected literal), when the get gave one. */
  same?: boolean | null;
  created?: boolean;
}

export interface PythonRun {
  /** Resolves once the peer's creator has started (it prints CREATING), for `hold` operations. */
  creating: Promise<void>;
  /** One result per operation. */
  results: Promise<PythonResult[]>;
}

/** Starts the Python peer; it is killed after `timeoutMs`, which rejects `results`. */
export function startPython(request: PythonRequest, timeoutMs = PYTHON_TIMEOUT_MS): PythonRun {
  const child = spawn(PYTHON, [PEER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let stdout = '';
  let stderr = '';
  let markCreating: () => void = () => {};
  const creating = new Promise<void>((resolve) => (markCreating = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('CREATING\n')) markCreating();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const results = new Promise<PythonResult[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python peer timed out after ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trimEnd().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`python peer exited with ${code}; stderr:\n${stderr}`));
      else resolve(JSON.parse(last) as PythonResult[]);
    });
  });
  child.stdin.end(JSON.stringify(request));
  return { creating, results };
}

/** Runs the Python peer to the end. */
export function runPython(request: PythonRequest, timeoutMs?: number): Promise<PythonResult[]> {
  return startPython(request, timeoutMs).results;
}

/** A key prefix unique to this run, so runs against long-lived servers never see each other's entries. */
export const runId = (): string => randomUUID().slice(0, 8);

export interface Sample {
  name: string;
  /** The value on the JavaScript side. */
  js: unknown;
  /** The same value as a Python literal. */
  py: string;
}

/** Values of every JSON type; keys of the test entries are unicode on purpose (sha1 of the UTF-8 bytes). */
export const SAMPLES: Sample[] = [
  { name: 'str', js: 'hello', py: "'hello'" },
  { name: 'unicode str', js: 'héllo ✓ 日本 🔑 "q" \\ \n', py: '\'héllo ✓ 日本 🔑 "q" \\\\ \\n\'' },
  { name: 'empty str', js: '', py: "''" },
  { name: 'int', js: 42, py: '42' },
  { name: 'negative int', js: -7, py: '-7' },
  { name: 'float', js: 2.5, py: '2.5' },
  { name: 'float repr', js: 0.1 + 0.2, py: '0.30000000000000004' },
  { name: 'small float', js: 1e-7, py: '1e-07' },
  { name: 'true', js: true, py: 'True' },
  { name: 'false', js: false, py: 'False' },
  { name: 'null', js: null, py: 'None' },
  { name: 'list', js: [1, 'two', 3.5, true, null], py: "[1, 'two', 3.5, True, None]" },
  { name: 'empty list', js: [], py: '[]' },
  {
    name: 'nested object',
    js: { name: 'ünï', tags: ['a', 'b'], nested: { deep: [1, { x: null }], ok: false }, n: -0.5 },
    py: "{'name': 'ünï', 'tags': ['a', 'b'], 'nested': {'deep': [1, {'x': None}], 'ok': False}, 'n': -0.5}",
  },
  { name: 'empty object', js: {}, py: '{}' },
];

/** Keys as a service would use them, several of them not ASCII. */
export function sampleKey(prefix: string, sample: Sample): string {
  return `${prefix}:ключ/${sample.name} ✓ 日本語`;
}

/**
 * Reads an item with memcached's text protocol (`get`), as python-memcached does: its flags and bytes,
 * or null when absent.
 */
export function memcachedRawGet(server: string, key: string): Promise<{ flags: number; value: Buffer } | null> {
  const [host = '127.0.0.1', port = '11211'] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) });
    let data = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy(new Error('memcached raw get timed out')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`get ${key}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.toString('latin1') === 'END\r\n') {
        socket.destroy();
        resolve(null);
        return;
      }
      const headerEnd = data.indexOf('\r\n');
      if (headerEnd < 0) return;
      const match = /^VALUE \S+ (\d+) (\d+)/.exec(data.subarray(0, headerEnd).toString('latin1'));
      if (!match) {
        socket.destroy();
        reject(new Error(`unexpected memcached reply ${JSON.stringify(data.toString('latin1'))}`));
        return;
      }
      const length = Number(match[2]);
      if (data.length < headerEnd + 2 + length + 7) return; // value, \r\n, END\r\n
      socket.destroy();
      resolve({ flags: Number(match[1]), value: data.subarray(headerEnd + 2, headerEnd + 2 + length) });
    });
  });
}
