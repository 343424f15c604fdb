// The VMM worker ("userspace", like QEMU) and the comlink proxy to it.
//
// comlink carries control calls only. A call whose worker died would never
// settle, so every call races against the worker's fatal error: once the worker
// fails to load or throws at top level, pending and later calls reject with a
// readable message instead of hanging the UI.
import * as Comlink from 'comlink';
import type { VmmApi } from './vmm-api.ts';

export interface VmmClient {
  /** The worker's API; every call is guarded against a dead worker. */
  readonly api: VmmApi;
  /** Set once the worker has failed; later calls reject with this text. */
  readonly fatal: string | null;
  onFatal(listener: (message: string) => void): void;
  terminate(): void;
}

export function createVmmClient(): VmmClient {
  // Written literally so Vite bundles the worker (web-platform-notes §2.1).
  const worker = new Worker(new URL('../../workers/vmm.worker.ts', import.meta.url), {
    type: 'module',
  });
  const remote = Comlink.wrap<VmmApi>(worker);

  let fatal: string | null = null;
  const listeners: ((message: string) => void)[] = [];
  let rejectDeath: (e: Error) => void = () => {};
  const death = new Promise<never>((_, reject) => (rejectDeath = reject));
  death.catch(() => {}); // observed through the races below

  const die = (message: string) => {
    if (fatal) return;
    fatal = message;
    rejectDeath(new Error(message));
    for (const l of listeners) l(message);
  };
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    const detail = ev.message ? `: ${ev.message}` : '';
    die(`The VMM worker stopped${detail}. Reload the page to start again.`);
  });
  worker.addEventListener('messageerror', () =>
    die('The VMM worker sent a message that could not be read. Reload the page.'),
  );

  // Every method goes through guard(): fail fast after a fatal error, and never
  // wait on a dead worker.
  const guard = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      fatal ? Promise.reject(new Error(fatal)) : Promise.race([fn(...args), death]);

  const api: VmmApi = {
    createVm: guard((cfg: { memMiB: number; vcpus: number }) => remote.createVm(cfg)),
    loadProgram: guard((p: Parameters<VmmApi['loadProgram']>[0]) =>
      // An uploaded ELF's buffer is ours alone: move it instead of copying.
      p.kind === 'elf' && !(p.bytes.buffer instanceof SharedArrayBuffer)
        ? remote.loadProgram(Comlink.transfer(p, [p.bytes.buffer]))
        : remote.loadProgram(p),
    ),
    run: guard(() => remote.run()),
    pause: guard(() => remote.pause()),
    step: guard((vcpu: number) => remote.step(vcpu)),
    reset: guard(() => remote.reset()),
    getRegs: guard((vcpu: number) => remote.getRegs(vcpu)),
    consoleInput: guard((bytes: Uint8Array) => remote.consoleInput(bytes)),
    status: guard(() => remote.status()),
    setDirtyLogging: guard((on: boolean) => remote.setDirtyLogging(on)),
    getDirtyLog: guard((slot: number) => remote.getDirtyLog(slot)),
    setDirtyMode: guard((mode: Parameters<VmmApi['setDirtyMode']>[0]) => remote.setDirtyMode(mode)),
    collectDirty: guard(() => remote.collectDirty()),
    clearDirtyLog: guard((first: number, num: number) => remote.clearDirtyLog(first, num)),
    describePage: guard((gfn: number) => remote.describePage(gfn)),
    explainAddress: guard((vcpu: number, gva: number) => remote.explainAddress(vcpu, gva)),
    swapOutPage: guard((gfn: number) => remote.swapOutPage(gfn)),
    ksmMergePages: guard((a: number, b: number) => remote.ksmMergePages(a, b)),
    migratePage: guard((gfn: number) => remote.migratePage(gfn)),
    swapOutRandom: guard((count: number) => remote.swapOutRandom(count)),
    ksmMergeIdentical: guard(() => remote.ksmMergeIdentical()),
    startTorture: guard((o: Parameters<VmmApi['startTorture']>[0]) => remote.startTorture(o)),
    tortureStatus: guard(() => remote.tortureStatus()),
    stopTorture: guard(() => remote.stopTorture()),
    raceList: guard(() => remote.raceList()),
    raceRun: guard((name: string, unsafe: boolean) => remote.raceRun(name, unsafe)),
    raceSessionStart: guard((name: string, unsafe: boolean) => remote.raceSessionStart(name, unsafe)),
    raceSessionAct: guard((action: Parameters<VmmApi['raceSessionAct']>[0]) => remote.raceSessionAct(action)),
    raceSessionVerdict: guard(() => remote.raceSessionVerdict()),
    raceSessionEnd: guard(() => remote.raceSessionEnd()),
  };

  return {
    api,
    get fatal() {
      return fatal;
    },
    onFatal(listener) {
      listeners.push(listener);
      if (fatal) listener(fatal);
    },
    terminate() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
