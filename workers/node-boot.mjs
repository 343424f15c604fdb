// Node worker_threads cannot load .ts files by themselves (Node 20 has no type
// stripping): this bootstrap registers tsx in the worker, then imports the
// TypeScript entry named in workerData.entry (a file URL).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
