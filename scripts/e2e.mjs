#!/usr/bin/env node
// `npm run test:e2e`: find (or install) Chromium, then run Playwright with it.
// Extra arguments go to Playwright: node scripts/e2e.mjs --grep console
// CHROMIUM_PATH set to '' tells playwright.config.ts to use Playwright's own browser.
import { spawnSync } from 'node:child_process';
import { findChromium } from './find-chromium.mjs';

const chromium = process.env.CHROMIUM_PATH || findChromium();
const env = { ...process.env, CHROMIUM_PATH: chromium ?? '' };
console.log(`[e2e] browser: ${chromium ?? "Playwright's default Chromium"}`);

const args = ['playwright', 'test', ...process.argv.slice(2)];
console.log(`[e2e] $ npx ${args.join(' ')}`);
const r = spawnSync('npx', args, { stdio: 'inherit', env });
process.exit(r.status ?? 1);
