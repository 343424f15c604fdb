#!/usr/bin/env node
// `npm start`: build the app, then serve the build with `vite preview`, which
// sends the cross-origin isolation headers from vite.config.ts. Prints the URL
// once the server answers, and checks that the headers really arrive.
//   PORT=8080 npm start   to use another port (default 4173)
import { spawn, spawnSync } from 'node:child_process';

const port = Number(process.env.PORT ?? 4173);
const url = `http://localhost:${port}/`;

console.log('[start] building the app: npx vite build');
const build = spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('[start] the build failed; nothing to serve');
  process.exit(build.status ?? 1);
}

console.log(`[start] serving dist/ on port ${port}: npx vite preview`);
const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], {
  stdio: ['inherit', 'ignore', 'inherit'],
});
server.on('exit', (code, signal) => {
  if (signal !== 'SIGINT' && signal !== 'SIGTERM' && code !== 0) {
    console.error(`[start] vite preview stopped (${signal ?? `exit ${code}`}); is port ${port} in use? Try PORT=8080 npm start`);
  }
  process.exit(code ?? 0);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.kill(sig));

/** Wait until the server answers, then print the URL and the header check. */
async function announce() {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      const coop = res.headers.get('cross-origin-opener-policy');
      const coep = res.headers.get('cross-origin-embedder-policy');
      const ok = coop === 'same-origin' && coep === 'require-corp';
      const line = '─'.repeat(url.length + 24);
      console.log(`\n${line}\n  webkvm is ready:  ${url}\n${line}`);
      console.log(ok
        ? '  Cross-origin isolation headers are on (COOP same-origin, COEP require-corp).'
        : `  WARNING: isolation headers missing (COOP=${coop}, COEP=${coep}); the VM will not start.`);
      console.log('  Open the URL as localhost (a secure context). Press Ctrl+C to stop.\n');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  console.error(`[start] no answer from ${url} after 20 s`);
}
void announce();
