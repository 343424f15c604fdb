// The VMM's control API as the UI calls it through comlink (the shape of
// src/ui/vmm-api.ts's VmmApi). One VM at a time: createVm() replaces the
// previous one. Errors are thrown as plain { code, message } objects, which
// survive structured cloning where an Error subclass would lose its fields.
import { Vmm, type VcpuSpawner } from './vmm.ts';
import { kvmCheckVmConfig } from './api.ts';
import { KvmError } from './errors.ts';
import { assemble } from '../asm/assembler.ts';
import { writeElf } from '../asm/elf.ts';
import { guestInclude } from '../guests/index.ts';
import { guestElf } from '../guests/build.ts';
import { EXIT_KIND_NAMES, EXITK_HTIF, EXITK_SHUTDOWN, VM_EXITED, VM_LOADED, VM_STATE } from './vcpu-ctl.ts';
import { VmDirtyControl } from './dirty-control.ts';
import type { DirtyLogMode } from './dirty-collector.ts';
import { describePage, explainAddress, formatExplanation, formatPageDescription } from './mmu-explain.ts';
import { kvmKsmMergeIdentical, kvmSwapOutRandom } from './host-bulk.ts';
import { bitmapWeight } from './bitops.ts';
import { TortureRun } from './torture-run.ts';
import { unsafeBitsByName } from './unsafe.ts';
import type { RaceLaneSpawner } from './race/engine.ts';
import { runRaceScenario } from './race/scenario.ts';
import { findRaceScenario, raceScenarioInfos } from './race/scenarios/index.ts';
import type { RaceRun, RaceScenarioInfo, RaceVerdict } from './race/types.ts';
import { RaceSession, type RaceActResult, type RaceAction, type RaceSessionState } from './race/session.ts';

export type ProgramSource =
  | { kind: 'elf'; bytes: Uint8Array; name: string }
  | { kind: 'asm'; source: string; name: string }
  /** params: a built-in guest's documented words, set in its source before assembly. */
  | { kind: 'guest'; name: string; params?: Record<string, number> };

const STATE_NAMES = ['empty', 'loaded', 'running', 'paused', 'exited'] as const;

export class VmmService {
  private vmm: Vmm | undefined;
  private lastError: string | undefined;
  /** The torture loop on the current VM, if one was started (torture-run.ts). */
  private torture: { run: TortureRun; done: Promise<void> } | undefined;
  /** Dirty-log mode and ring cursors of the current VM (dirty-control.ts); reset with the VM. */
  private dirty: VmDirtyControl | undefined;
  /** The vCPUs of the current VM have run (the dirty ring may no longer be enabled). */
  private hasRun = false;

  /** The race-lab run in progress: one at a time (each makes its own lab VM and lanes). */
  private raceBusy = false;
  /** The live free-play session (race/session.ts): one at a time, a new one ends the old. */
  private raceSession: RaceSession | undefined;
  private raceSessionStarting = false;

  /** @param raceSpawn starts race-lab lanes (Web Workers in the browser); without it raceRun is ENOSYS. */
  constructor(private readonly spawn: VcpuSpawner, private readonly raceSpawn?: RaceLaneSpawner) {}

  // ── the race lab (src/kvm/race/): its own small VM, independent of this.vmm ──

  async raceList(): Promise<RaceScenarioInfo[]> {
    return raceScenarioInfos();
  }

  /** Replay scenario `name` on real lane workers, protection off if `unsafe`: every step and the verdict. */
  async raceRun(name: string, unsafe: boolean): Promise<RaceRun> {
    return guarded(async () => {
      const spawn = this.laneSpawner();
      const scenario = findRaceScenario(String(name));
      if (this.raceBusy) throw new KvmError('EBUSY', 'race lab: a run is in progress; wait for it to finish');
      this.raceBusy = true;
      try {
        return await runRaceScenario(spawn, scenario, unsafe === true);
      } finally {
        this.raceBusy = false;
      }
    });
  }

  /** Free play, live: scenario `name`'s lab VM and lanes after its setup, waiting for actions. Ends the previous session. */
  async raceSessionStart(name: string, unsafe: boolean): Promise<RaceSessionState> {
    return guarded(async () => {
      const spawn = this.laneSpawner();
      const scenario = findRaceScenario(String(name));
      if (this.raceSessionStarting) throw new KvmError('EBUSY', 'race free play: a session is starting; wait for it');
      this.raceSessionStarting = true;
      try {
        const old = this.raceSession;
        this.raceSession = undefined;
        await old?.end();
        this.raceSession = await RaceSession.start(spawn, scenario, unsafe === true);
        return this.raceSession.state();
      } finally {
        this.raceSessionStarting = false;
      }
    });
  }

  /** One free-play action (arm, op, release, join): its step and the session after it. */
  async raceSessionAct(action: RaceAction): Promise<RaceActResult> {
    return guarded(async () => this.liveRaceSession().act(action));
  }

  /** The checkers over the session's state now. */
  async raceSessionVerdict(): Promise<RaceVerdict> {
    return guarded(async () => this.liveRaceSession().verdict());
  }

  /** End the free-play session (its lanes and lab VM); nothing if there is none. */
  async raceSessionEnd(): Promise<void> {
    return guarded(async () => {
      const s = this.raceSession;
      this.raceSession = undefined;
      await s?.end();
    });
  }

  private laneSpawner(): RaceLaneSpawner {
    if (!this.raceSpawn) throw new KvmError('ENOSYS', 'race lab: this VMM was started without a lane spawner');
    return this.raceSpawn;
  }

  private liveRaceSession(): RaceSession {
    const s = this.raceSession;
    if (!s || s.isEnded) throw new KvmError('ENOENT', 'race free play: no session is running; start one');
    return s;
  }

  /** The createVm in progress: a second one waits for it, so two VMs never race for this.vmm. */
  private creating: Promise<unknown> = Promise.resolve();

  async createVm(cfg: { memMiB: number; vcpus: number }) {
    const next = this.creating.then(() => this.createVmNow(cfg));
    this.creating = next.catch(() => undefined);
    return next;
  }

  private async createVmNow(cfg: { memMiB: number; vcpus: number }) {
    return guarded(async () => {
      this.torture?.run.stop(); // its loop ends at its next round, before touching the old VM
      this.torture = undefined;
      if (this.vmm) await this.vmm.destroy();
      this.vmm = undefined;
      kvmCheckVmConfig(cfg);
      this.vmm = await Vmm.create({ memBytes: cfg.memMiB << 20, vcpus: cfg.vcpus }, this.spawn);
      this.dirty = undefined;
      this.hasRun = false;
      const vm = this.vmm.vm;
      return { hv: vm.hv, ram: vm.ram, layout: layoutRecord(this.vmm), vcpus: vm.config.vcpus };
    });
  }

  async loadProgram(p: ProgramSource) {
    return guarded(async () => {
      const vmm = this.need();
      const elf = await toElf(p);
      const prog = vmm.loadElf(elf, p.kind === 'guest' ? `${p.name}.S` : p.name);
      this.lastError = undefined;
      return { entry: prog.entry, symbols: [...prog.symbols], bootMode: prog.bootMode };
    });
  }

  async run() {
    return guarded(async () => {
      this.need().run();
      this.hasRun = true;
    });
  }
  async pause() {
    return guarded(async () => this.need().pause());
  }
  async step(vcpu: number) {
    return guarded(async () => this.need().step(vcpu));
  }
  async reset() {
    return guarded(async () => this.need().reset());
  }
  async getRegs(vcpu: number) {
    return guarded(async () => this.need().getRegs(vcpu));
  }
  async consoleInput(bytes: Uint8Array) {
    return guarded(async () => {
      this.need().writeConsole(bytes);
    });
  }

  async setDirtyLogging(on: boolean) {
    return guarded(async () => this.need().setDirtyLogging(on === true));
  }
  /** GET_DIRTY_LOG plus what the UI shows about it: pages in the snapshot and the time taken. */
  async getDirtyLog(slot: number) {
    return guarded(async () => {
      const vmm = this.need();
      const t0 = now();
      const bitmap = vmm.getDirtyLog(slot);
      const ms = now() - t0;
      return { bitmap, pages: bitmapWeight(bitmap), ms };
    });
  }

  // ── dirty-log collection modes, the explorer, host memory (UI panels) ────

  /** bitmap | clear (manual protect) | ring; the ring only before the first run. */
  async setDirtyMode(mode: DirtyLogMode) {
    return guarded(async () => {
      const vmm = this.need();
      const before = !this.hasRun && Atomics.load(vmm.vm.view('vm'), VM_STATE) === VM_LOADED;
      this.dirtyControl().setMode(mode, before);
    });
  }
  /** One collection in the current mode (GET; GET + CLEAR; ring harvest + reset). */
  async collectDirty() {
    return guarded(async () => {
      const ctl = this.dirtyControl();
      const t0 = now();
      const bitmap = ctl.collect();
      return { bitmap, pages: bitmapWeight(bitmap), ms: now() - t0, mode: ctl.mode };
    });
  }
  /** KVM_CLEAR_DIRTY_LOG of a range of slot 0 (all its pages' bits). */
  async clearDirtyLog(firstPage: number, numPages: number) {
    return guarded(async () => {
      const t0 = now();
      this.dirtyControl().clearRange(firstPage, numPages);
      return { ms: now() - t0 };
    });
  }
  /** A gfn's host page and the SPTEs in its rmap (read under mmu_lock: exact). */
  async describePage(gfn: number) {
    return guarded(async () => {
      const vmm = this.need();
      vmm.kvm.mmuLock.lock();
      try {
        const d = describePage(vmm.vm, gfn >>> 0);
        return { ...d, lines: formatPageDescription(d) };
      } finally {
        vmm.kvm.mmuLock.unlock();
      }
    });
  }
  /** The walk gva -> guest PTEs -> SPTEs -> host pfn for one vCPU (read-only). */
  async explainAddress(vcpu: number, gva: number) {
    return guarded(async () => {
      const vmm = this.need();
      const regs = vmm.getRegs(vcpu);
      const e = explainAddress(vmm.vm, vcpu, gva >>> 0, regs.csrs['satp'] ?? 0, regs.priv);
      return { ...e, lines: formatExplanation(e) };
    });
  }
  async swapOutPage(gfn: number) {
    return guarded(async () => this.need().swapOutPage(gfn));
  }
  async ksmMergePages(gfnA: number, gfnB: number) {
    return guarded(async () => this.need().ksmMergePages(gfnA, gfnB));
  }
  async migratePage(gfn: number) {
    return guarded(async () => this.need().migratePage(gfn));
  }
  async swapOutRandom(count: number) {
    return guarded(async () => kvmSwapOutRandom(this.need().kvm, count));
  }
  async ksmMergeIdentical() {
    return guarded(async () => kvmKsmMergeIdentical(this.need().kvm));
  }

  // ── torture (torture-run.ts), for the Torture panel ─────────────────────

  /** Reload the dirty guest on the current VM and start collecting and checking. */
  async startTorture(o: { mode: DirtyLogMode; pages: number; intervalMs: number; hostOps: boolean; unsafe: string }) {
    return guarded(async () => {
      const vmm = this.need();
      if (this.torture && ['starting', 'running'].includes(this.torture.run.counters().state)) {
        throw new KvmError('EBUSY', 'torture: one is already running; stop it first');
      }
      const unsafe = o.unsafe ? unsafeBitsByName(String(o.unsafe)) : 0;
      const run = new TortureRun(vmm, {
        mode: o.mode, pages: Number(o.pages), intervalMs: Number(o.intervalMs), hostOps: o.hostOps === true, unsafe, durationMs: Infinity,
      });
      this.dirty = undefined; // the torture's collector owns the dirty-log mode now
      this.torture = { run, done: Promise.resolve() };
      await run.start();
      this.hasRun = true;
      // The loop runs in this worker between comlink calls (it sleeps between rounds).
      this.torture.done = run.loop().then(() => undefined, () => undefined).finally(() => {
        if (this.vmm === vmm) vmm.pause();
      });
      return run.counters();
    });
  }
  async tortureStatus() {
    return this.torture?.run.counters() ?? null;
  }
  async stopTorture() {
    return guarded(async () => {
      const t = this.torture;
      if (!t) return null;
      t.run.stop();
      await t.done;
      return t.run.counters();
    });
  }

  private dirtyControl(): VmDirtyControl {
    const vmm = this.need();
    if (!this.dirty) this.dirty = new VmDirtyControl(vmm);
    return this.dirty;
  }

  async status() {
    const vmm = this.vmm;
    if (!vmm) return { state: 'empty' as const };
    const s = Atomics.load(vmm.vm.view('vm'), VM_STATE);
    if (s !== VM_EXITED) return { state: STATE_NAMES[s] ?? 'error', message: this.lastError };
    const e = vmm.exitInfo()!;
    return {
      state: e.kind === EXITK_HTIF || e.kind === EXITK_SHUTDOWN ? ('exited' as const) : ('error' as const),
      exitCode: e.code,
      message: describeExit(e.kind, e.code, e.cause, e.tval, e.pc, e.message),
    };
  }

  private need(): Vmm {
    if (!this.vmm) throw new KvmError('ENOENT', 'no VM: create one first');
    return this.vmm;
  }
}

function describeExit(kind: number, code: number, cause: number, tval: number, pc: number, msg?: string): string {
  const name = EXIT_KIND_NAMES[kind] ?? 'unknown';
  const at = `pc 0x${(pc >>> 0).toString(16)}`;
  if (name === 'trap') return `guest trap with no handler at ${at}: cause ${cause}, tval 0x${(tval >>> 0).toString(16)}`;
  if (name === 'internal') return `internal error: ${msg ?? 'a vCPU failed'}`;
  if (name === 'limit') return `instruction limit reached at ${at}`;
  return `guest ${name === 'htif' ? 'exited (HTIF)' : name} with code ${code}`;
}

/** The region table the UI reads: hv regions plus the platform's sub-regions. */
function layoutRecord(vmm: Vmm): Record<string, { offset: number; words: number }> {
  const rec = vmm.vm.layout.toRecord();
  const base = rec['platform'].offset;
  const L = vmm.platform.layout;
  rec['console-out'] = { offset: base + L.consoleOut.offset * 4, words: L.consoleOut.words };
  rec['console-in'] = { offset: base + L.consoleIn.offset * 4, words: L.consoleIn.words };
  return rec;
}

async function toElf(p: ProgramSource): Promise<Uint8Array> {
  if (p.kind === 'elf') return p.bytes;
  // A user's source may .include the built-in guest library too (lib/NAME.S).
  if (p.kind === 'asm') return writeElf(assemble(p.source, p.name, { include: guestInclude }));
  return guestElf(p.name, p.params ?? {});
}

/** Wall clock for the GET timing (performance.now in workers and in Node). */
function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Run `fn`, turning any error into a { code, message } object a UI can show. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KvmError) throw { code: e.code, message: e.message };
    const err = e as { message?: string };
    throw { code: 'EFAULT', message: `internal error: ${err?.message ?? String(e)}` };
  }
}

