#!/usr/bin/env node
// The `webkvm` command. The sources are TypeScript; tsx compiles them on load
// so the CLI, the tests and the benchmarks run exactly the code the browser runs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
