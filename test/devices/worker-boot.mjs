// Runs a TypeScript worker under Node's worker_threads (no type stripping in
// Node 20): register tsx in this thread, then import workerData.entry.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
