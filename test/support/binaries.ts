// Finding the server binaries the suites start themselves.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The FerretDB binary: FERRETDB_BIN, then Go's bin directory (where scripts/services.mjs builds it), then
 * PATH; null when there is none.
 */
export function ferretdbBinary(): string | null {
  const candidates = [process.env.FERRETDB_BIN];
  const go = spawnSync('go', ['env', 'GOBIN', 'GOPATH'], { encoding: 'utf8' });
  if (go.status === 0) {
    const [gobin, gopath] = go.stdout.split('\n');
    if (gobin) candidates.push(path.join(gobin, 'ferretdb'));
    if (gopath) candidates.push(path.join(gopath.split(path.delimiter)[0] as string, 'bin', 'ferretdb'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) candidates.push(path.join(dir, 'ferretdb'));
  return candidates.find((file) => file !== undefined && fs.existsSync(file)) ?? null;
}
