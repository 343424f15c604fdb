#!/usr/bin/env node
// The `webkvm` command. The sources are TypeScript; tsx compiles them on load
// so the CLI, the tests and the benchmarks run exactly the code the browser runs.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`webkvm race list | head`) closes the pipe: that
// is the reader's choice, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
