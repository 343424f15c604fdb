// One VM session as the UI sees it: the VMM worker's state plus what the user
// last asked for. Every control call goes through here, one at a time, and
// every change is published to the views that subscribed.
//
// The VM's own state always comes from status(); the UI never guesses it. While
// the VM runs, status() is polled a few times a second (a control-plane call,
// not per frame) so an exit or a guest error shows up promptly.
import { userMessage } from './errors.ts';
import { createSharedViews, type SharedViews } from './shared-views.ts';
import type { LoadedProgram, ProgramSource, VmmApi, VmState } from './vmm-api.ts';

export type ProgramKind = ProgramSource['kind'];

export interface SessionError {
  /** What the user was doing: loading one kind of program, or a control. */
  source: ProgramKind | 'control' | 'worker';
  text: string;
}

export interface SessionState {
  vm: VmState;
  exitCode?: number;
  /** Message from the VMM's status (guest error, exit reason). */
  vmMessage?: string;
  program: (LoadedProgram & { name: string; kind: ProgramKind }) | null;
  /** Human description of the control call in flight, or null. */
  busy: string | null;
  error: SessionError | null;
  views: SharedViews | null;
  /** False when the page is not cross-origin isolated: nothing can run. */
  canRun: boolean;
}

export interface MachineConfig {
  memMiB: number;
  vcpus: number;
}

const STATUS_POLL_MS = 250;

/** An error already worded for the user, with the part of the UI it belongs to. */
class SourcedError extends Error {
  constructor(readonly source: SessionError['source'], message: string) {
    super(message);
  }
}

export class Session {
  private state: SessionState;
  private readonly listeners = new Set<(s: SessionState) => void>();
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSource: ProgramSource | null = null;
  /** Only the newest status() answer counts; an older poll may arrive late. */
  private statusSeq = 0;

  constructor(
    private readonly api: VmmApi | null,
    private readonly config: () => MachineConfig,
    /** What Run loads when nothing is loaded yet (the selected built-in guest). */
    private readonly defaultProgram: () => ProgramSource | null,
  ) {
    this.state = {
      vm: 'empty',
      program: null,
      busy: null,
      error: null,
      views: null,
      canRun: api !== null,
    };
  }

  get current(): SessionState {
    return this.state;
  }

  subscribe(listener: (s: SessionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** The worker died: nothing more can be done in this page. */
  fail(text: string): void {
    this.stopPolling();
    this.set({ vm: 'error', busy: null, canRun: false, error: { source: 'worker', text } });
  }

  /** Create a fresh VM with the current machine settings and load a program into it. */
  async load(source: ProgramSource): Promise<boolean> {
    const label = source.kind === 'elf' ? `Loading ${source.name}` :
      source.kind === 'asm' ? `Assembling ${source.name}` : `Loading guest "${source.name}"`;
    return this.act(label, source.kind, async (api) => {
      let handles;
      try {
        handles = await api.createVm(this.config());
      } catch (e) {
        // Not the program's fault: report it as a machine problem.
        throw new SourcedError('control', `Could not create the VM: ${userMessage(e)}`);
      }
      const views = createSharedViews(handles);
      this.set({ views, program: null });
      // loadProgram may transfer an uploaded buffer, so remember a copy for "Run again".
      const remembered = source.kind === 'elf' ? { ...source, bytes: source.bytes.slice() } : source;
      const loaded = await api.loadProgram(source);
      this.lastSource = remembered;
      this.set({ program: { ...loaded, name: source.name, kind: source.kind } });
    });
  }

  async run(): Promise<boolean> {
    const { vm } = this.state;
    if (vm === 'empty') {
      const src = this.lastSource ?? this.defaultProgram();
      if (!src) {
        this.set({ error: { source: 'control', text: 'Choose a program to run first.' } });
        return false;
      }
      if (!(await this.load(src))) return false;
    } else if (vm === 'exited' || vm === 'error') {
      if (!(await this.act('Resetting', 'control', (api) => api.reset()))) return false;
    }
    return this.act('Starting', 'control', (api) => api.run());
  }

  pause(): Promise<boolean> {
    return this.act('Pausing', 'control', (api) => api.pause());
  }

  step(vcpu: number): Promise<boolean> {
    return this.act(`Stepping vCPU ${vcpu}`, 'control', (api) => api.step(vcpu));
  }

  reset(): Promise<boolean> {
    return this.act('Resetting', 'control', (api) => api.reset());
  }

  /** Registers of one vCPU, for the register view; null when unavailable. */
  async regs(vcpu: number) {
    if (!this.api || this.state.busy) return null;
    try {
      return await this.api.getRegs(vcpu);
    } catch {
      return null;
    }
  }

  /** Keystrokes when the layout has no console-in ring: fall back to a control call. */
  consoleInput(bytes: Uint8Array): void {
    this.api?.consoleInput(bytes).catch((e: unknown) =>
      this.set({ error: { source: 'control', text: userMessage(e) } }),
    );
  }

  /** Run one control call: mark busy, publish errors as text, then re-read status. */
  private async act(
    label: string,
    source: SessionError['source'],
    fn: (api: VmmApi) => Promise<unknown>,
  ): Promise<boolean> {
    const api = this.api;
    if (!api || !this.state.canRun || this.state.busy) return false;
    this.set({ busy: `${label}…`, error: null });
    let ok = true;
    try {
      await fn(api);
    } catch (e) {
      ok = false;
      const error = e instanceof SourcedError ? { source: e.source, text: e.message } : { source, text: userMessage(e) };
      this.set({ error });
    }
    this.set({ busy: null });
    await this.refresh();
    return ok;
  }

  /** Read the VM state from the worker and schedule the next poll if it runs. */
  async refresh(): Promise<void> {
    const api = this.api;
    if (!api || !this.state.canRun) return;
    this.stopPolling();
    const seq = ++this.statusSeq;
    try {
      const s = await api.status();
      if (seq !== this.statusSeq) return;
      this.set({ vm: s.state, exitCode: s.exitCode, vmMessage: s.message });
    } catch (e) {
      if (seq !== this.statusSeq) return;
      this.set({ error: { source: 'control', text: userMessage(e) } });
    }
    if (this.state.vm === 'running' && this.state.canRun) {
      this.pollTimer = setTimeout(() => void this.refresh(), STATUS_POLL_MS);
    }
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private set(patch: Partial<SessionState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }
}
