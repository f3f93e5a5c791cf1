#!/usr/bin/env node
// The test servers' command line: install, start and stop the real servers the test suites talk to
// (scripts/services/install.mjs installs, scripts/services/servers.mjs starts and stops).
//
//   node scripts/services.mjs install|start|stop|status|env
//
// Also importable (startServices, stopServices, startService, stopService, servicePid, etcdClusterLeader,
// installTools), so test files and the benchmarks keep one import path. See docs/testing.md.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ENV_FILE,
  GROUPS,
  SERVICES,
  installTools,
  readPid,
  seconds,
  servicePid,
  startServices,
  stopServices,
} from './services/servers.mjs';

export {
  startServices,
  stopServices,
  startService,
  stopService,
  servicePid,
  etcdClusterLeader,
  installTools,
} from './services/servers.mjs';

const COMMANDS = {
  async install() {
    const started = Date.now();
    const installed = await installTools();
    console.log(
      `services: ${installed.length ? `installed ${installed.join(', ')} in ${seconds(started)}` : 'everything already installed'}`,
    );
  },
  async start() {
    const started = Date.now();
    await startServices();
    const skipped = GROUPS.filter((g) => process.env[g.env]).map((g) => g.env);
    const running = Object.keys(SERVICES).filter((name) => readPid(name) !== undefined);
    console.log(
      `services: started ${running.length} servers in ${seconds(started)}` +
        `${skipped.length ? ` (using ${skipped.join(', ')} from the environment)` : ''}; env in ${ENV_FILE}`,
    );
  },
  async stop() {
    const running = Object.keys(SERVICES).filter((name) => servicePid(name) !== undefined);
    await stopServices();
    console.log(`services: stopped ${running.length} servers`);
  },
  async status() {
    for (const [name, service] of Object.entries(SERVICES)) {
      const pid = readPid(name);
      const state = pid === undefined ? 'not started' : servicePid(name) ? 'alive' : 'dead';
      console.log(`${name.padEnd(16)} ${String(pid ?? '-').padStart(7)}  ${state.padEnd(11)} ${service.endpoint}`);
    }
  },
  /** Prints `export NAME='value'` lines for a shell: eval "$(node scripts/services.mjs env)". */
  async env() {
    if (!fs.existsSync(ENV_FILE)) throw new Error(`${ENV_FILE} does not exist; run \`node scripts/services.mjs start\` first`);
    const env = JSON.parse(fs.readFileSync(ENV_FILE, 'utf8'));
    for (const [key, value] of Object.entries(env)) console.log(`export ${key}='${value}'`);
  },
};

async function main(command) {
  const run = COMMANDS[command];
  if (!run) {
    console.error(`usage: node scripts/services.mjs ${Object.keys(COMMANDS).join('|')}`);
    process.exit(2);
  }
  try {
    await run();
  } catch (error) {
    console.error(`services: ${command} failed: ${error.message}`);
    process.exit(1);
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  await main(process.argv[2]);
}
