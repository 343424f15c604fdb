// The VMM's control API as the UI calls it through comlink (the shape of
// src/ui/vmm-api.ts's VmmApi). One VM at a time: createVm() replaces the
// previous one. Errors are thrown as plain { code, message } objects, which
// survive structured cloning where an Error subclass would lose its fields.
import { Vmm, type VcpuSpawner } from './vmm.ts';
import { KvmError } from './errors.ts';
import { assemble } from '../asm/assembler.ts';
import { writeElf } from '../asm/elf.ts';
import { loadGuestSource } from '../guests/index.ts';
import { EXIT_KIND_NAMES, EXITK_HTIF, EXITK_SHUTDOWN, VM_EXITED, VM_STATE } from './vcpu-ctl.ts';

export type ProgramSource =
  | { kind: 'elf'; bytes: Uint8Array; name: string }
  | { kind: 'asm'; source: string; name: string }
  | { kind: 'guest'; name: string };

const STATE_NAMES = ['empty', 'loaded', 'running', 'paused', 'exited'] as const;

export class VmmService {
  private vmm: Vmm | undefined;
  private lastError: string | undefined;

  constructor(private readonly spawn: VcpuSpawner) {}

  /** The createVm in progress: a second one waits for it, so two VMs never race for this.vmm. */
  private creating: Promise<unknown> = Promise.resolve();

  async createVm(cfg: { memMiB: number; vcpus: number }) {
    const next = this.creating.then(() => this.createVmNow(cfg));
    this.creating = next.catch(() => undefined);
    return next;
  }

  private async createVmNow(cfg: { memMiB: number; vcpus: number }) {
    return guarded(async () => {
      if (this.vmm) await this.vmm.destroy();
      this.vmm = undefined;
      const memMiB = Number(cfg.memMiB);
      if (!Number.isInteger(memMiB) || memMiB < 1 || memMiB > 1024) throw new KvmError('EINVAL', `memory must be 1..1024 MiB, got ${cfg.memMiB}`);
      this.vmm = await Vmm.create({ memBytes: memMiB << 20, vcpus: cfg.vcpus }, this.spawn);
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
    return guarded(async () => this.need().run());
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
      let pages = 0;
      for (let i = 0; i < bitmap.length; i++) pages += popcount32(bitmap[i]!);
      return { bitmap, pages, ms };
    });
  }

  async status() {
    const vmm = this.vmm;
    if (!vmm) return { state: 'empty' as const };
    const s = Atomics.load(vmm.vm.view('vm'), VM_STATE);
    if (s !== VM_EXITED) return { state: STATE_NAMES[s] ?? 'error', message: this.lastError };
    const e = vmm.exitInfo()!;
    const ok = (e.kind === EXITK_HTIF || e.kind === EXITK_SHUTDOWN) && e.code === 0;
    return {
      state: ok || e.kind === EXITK_HTIF || e.kind === EXITK_SHUTDOWN ? ('exited' as const) : ('error' as const),
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
  if (p.kind === 'asm') return writeElf(assemble(p.source, p.name));
  return writeElf(assemble(await loadGuestSource(p.name), `${p.name}.S`));
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
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

