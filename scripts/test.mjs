#!/usr/bin/env node
// `npm test`: the whole check, in the order a failure is cheapest to find.
//   1. type-check (tsc --noEmit)
//   2. unit and system tests (Vitest, real worker_threads)
//   3. end-to-end tests in a real Chromium (Playwright; scripts/e2e.mjs finds
//      or installs Chromium by itself)
// Each step's output streams through; the first failing step stops the run.
import { spawnSync } from 'node:child_process';

const steps = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['unit and system tests', 'npx', ['vitest', 'run']],
  ['end-to-end tests', 'node', ['scripts/e2e.mjs']],
];

const only = process.argv.slice(2);
for (const [name, cmd, args] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n=== ${name} FAILED after ${secs}s (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  console.log(`=== ${name} passed in ${secs}s`);
}
