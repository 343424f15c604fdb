#!/usr/bin/env node
// Find a Chromium for the end-to-end tests, installing one if we may.
//   1. /usr/bin/chromium (Debian's package) if present;
//   2. else, as root or with passwordless sudo where apt-get exists:
//      `apt-get install -y chromium` (after `apt-get update` if that fails);
//   3. else Playwright's own download (`npx playwright install chromium`),
//      returning undefined so Playwright uses its default browser.
// Every step says what it does. Run directly to print the path:
//   node scripts/find-chromium.mjs
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

const say = (msg) => console.log(`[find-chromium] ${msg}`);

function run(cmd, args, env = {}) {
  say(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasPasswordlessSudo() {
  return onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

/** Install Debian's chromium with apt-get; true if /usr/bin/chromium exists afterwards. */
function aptInstallChromium(prefix) {
  const apt = (...args) => {
    const [cmd, ...rest] = [...prefix, 'apt-get', ...args];
    return run(cmd, rest, { DEBIAN_FRONTEND: 'noninteractive' });
  };
  // Wait for another apt/dpkg run (up to 5 min) instead of failing on its lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  if (apt('install', '-y', ...lockWait, 'chromium')) return existsSync(SYSTEM_CHROMIUM);
  say('install failed; refreshing the package lists and trying again');
  return apt('update', ...lockWait) && apt('install', '-y', ...lockWait, 'chromium') && existsSync(SYSTEM_CHROMIUM);
}

/** @returns {string | undefined} a Chromium executable, or undefined for Playwright's default */
export function findChromium() {
  if (existsSync(SYSTEM_CHROMIUM)) {
    say(`using ${SYSTEM_CHROMIUM}`);
    return SYSTEM_CHROMIUM;
  }
  say(`${SYSTEM_CHROMIUM} not found`);
  if (onPath('apt-get')) {
    const prefix = isRoot() ? [] : hasPasswordlessSudo() ? ['sudo', '-n', '-E'] : null;
    if (prefix) {
      say(`installing Debian's chromium with apt-get${prefix.length ? ' (via sudo)' : ''}`);
      if (aptInstallChromium(prefix)) {
        say(`installed; using ${SYSTEM_CHROMIUM}`);
        return SYSTEM_CHROMIUM;
      }
      say('apt-get could not install chromium');
    } else {
      say('not root and no passwordless sudo: cannot use apt-get');
    }
  } else {
    say('apt-get not available');
  }
  say("falling back to Playwright's own Chromium download");
  if (!run('npx', ['playwright', 'install', 'chromium'])) {
    say('`npx playwright install chromium` failed; the tests will not find a browser');
  }
  return undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const path = findChromium();
  console.log(path ?? "(Playwright's default Chromium)");
}
