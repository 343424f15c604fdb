// The torture loop of dirty_log_test (§5.1, §6.1), environment-neutral so the
// `webkvm torture` command (Node) and the VMM worker (the app's Torture panel)
// run the same code: load the dirty guest with N pages per vCPU and no end,
// enable the chosen collection mode, then until stopped:
//   collect (GET / GET+CLEAR / ring harvest+reset) -> check every written page
//   against the log (dirty-check.ts) -> with host ops, swap out, KSM-merge and
//   migrate random pages of the written region -> pause `intervalMs`.
// Each collection is one check: it passes when no written page is missing.
// Counters are plain numbers, read by the caller at any time (counters()).
import { guestElf } from '../guests/build.ts';
import { DirtyCollector, DIRTY_LOG_MODES, type DirtyLogMode } from './dirty-collector.ts';
import { DirtyLogChecker, type CheckedPage } from './dirty-check.ts';
import { KvmError } from './errors.ts';
import { kvmReadGuest } from './memslot.ts';
import { kvmSetUnsafe, unsafeName } from './unsafe.ts';
import type { Vmm } from './vmm.ts';

export interface TortureOptions {
  mode: DirtyLogMode;
  /** Pages each vCPU writes (1..1024). */
  pages: number;
  /** Pause between collections, ms. */
  intervalMs: number;
  /** Swap out, KSM-merge and migrate pages of the written region meanwhile. */
  hostOps: boolean;
  /** UNSAFE_* bits (unsafe.ts): 0 = every protection on. */
  unsafe: number;
  /** Stop after this many ms (Infinity: only stop() ends it). */
  durationMs: number;
}

export interface LostPage {
  gfn: number;
  gpa: number;
  /** The collection (1-based) that found it missing. */
  collection: number;
}

export interface HostOpCounts {
  swapOut: number;
  ksmMerge: number;
  migrate: number;
  /** Ops that found nothing to do or were refused (pages differ, not resident, pool/swap full). */
  skipped: number;
}

export type TortureState = 'idle' | 'starting' | 'running' | 'stopped' | 'error';

export interface TortureCounters {
  state: TortureState;
  mode: DirtyLogMode;
  vcpus: number;
  pages: number;
  hostOps: boolean;
  /** Name of the switched-off protection, '' if none. */
  unsafe: string;
  collections: number;
  passed: number;
  failed: number;
  /** Lost pages found so far (the first MAX_NAMED are in `lost`). */
  lostPages: number;
  lost: LostPage[];
  /** Pages the collections reported, summed. */
  reportedPages: number;
  host: HostOpCounts;
  elapsedMs: number;
  error?: string;
}

/** Lost pages kept by name; the rest are only counted. */
export const MAX_NAMED = 20;
/** How long the guest may take to publish its regions. */
const START_TIMEOUT_MS = 10_000;

/** Options checked, with the errno a user gets for a bad one. */
export function checkTortureOptions(o: TortureOptions): void {
  if (!DIRTY_LOG_MODES.includes(o.mode)) throw new KvmError('EINVAL', `torture: mode must be one of ${DIRTY_LOG_MODES.join(', ')}, got '${String(o.mode)}'`);
  if (!Number.isInteger(o.pages) || o.pages < 1 || o.pages > 1024) throw new KvmError('EINVAL', `torture: pages per vCPU must be 1..1024, got ${String(o.pages)}`);
  if (!(o.intervalMs >= 0 && o.intervalMs <= 1000)) throw new KvmError('EINVAL', `torture: interval must be 0..1000 ms, got ${String(o.intervalMs)}`);
  if (!Number.isInteger(o.unsafe) || o.unsafe < 0) throw new KvmError('EINVAL', `torture: bad unsafe bits ${String(o.unsafe)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class TortureRun {
  private readonly c: TortureCounters;
  private checker: DirtyLogChecker | null = null;
  private collector: DirtyCollector | null = null;
  private region: CheckedPage[] = [];
  private stopping = false;
  private t0 = 0;
  private seed = 0x2545f491;

  constructor(private readonly vmm: Vmm, private readonly opts: TortureOptions) {
    checkTortureOptions(opts);
    this.c = {
      state: 'idle', mode: opts.mode, vcpus: vmm.vcpus, pages: opts.pages, hostOps: opts.hostOps,
      unsafe: unsafeName(opts.unsafe), collections: 0, passed: 0, failed: 0, lostPages: 0, lost: [],
      reportedPages: 0, host: { swapOut: 0, ksmMerge: 0, migrate: 0, skipped: 0 }, elapsedMs: 0,
    };
  }

  /** A snapshot of the counters (safe to hand to another thread). */
  counters(): TortureCounters {
    const c = this.c;
    if (c.state === 'running') c.elapsedMs = Math.round(now() - this.t0);
    return { ...c, lost: c.lost.slice(), host: { ...c.host } };
  }

  /** Ask the loop to end after the current round. */
  stop(): void {
    this.stopping = true;
  }

  /** Load the guest, switch logging and the protections, start the vCPUs, wait for their regions. */
  async start(): Promise<void> {
    const { vmm, opts } = this;
    this.c.state = 'starting';
    const prog = vmm.loadElf(await guestElf('dirty', { max_iterations: 0, pages_per_vcpu: opts.pages }), 'dirty.S');
    kvmSetUnsafe(vmm.vm, opts.unsafe);
    this.collector = new DirtyCollector(vmm, opts.mode);
    vmm.run();
    this.region = await this.regionPages(prog.symbols.get('region_base')!);
    this.checker = new DirtyLogChecker(this.region, (gpa) => this.tag(gpa));
  }

  /**
   * Collect and check until stop(), the duration, or the guest's exit.
   * `onLost` hears of each lost page as it is found. Leaves the VM running.
   */
  async loop(onLost?: (p: LostPage) => void): Promise<TortureCounters> {
    const c = this.c;
    if (!this.checker || !this.collector) throw new KvmError('EINVAL', 'torture: start() first');
    c.state = 'running';
    this.t0 = now();
    const end = this.t0 + this.opts.durationMs;
    try {
      while (!this.stopping && now() < end) {
        const exit = this.vmm.exitInfo();
        if (exit) throw new KvmError('EFAULT', `torture: the guest stopped (${exit.message ?? `exit kind ${exit.kind}, code ${exit.code}`})`);
        this.round(onLost);
        if (this.opts.hostOps) this.hostOps();
        await sleep(this.opts.intervalMs);
      }
      c.state = 'stopped';
    } catch (e) {
      c.state = 'error';
      c.error = e instanceof Error ? e.message : String(e);
      throw e;
    } finally {
      c.elapsedMs = Math.round(now() - this.t0);
    }
    return this.counters();
  }

  private round(onLost?: (p: LostPage) => void): void {
    const c = this.c;
    const r = this.checker!.collect(this.collector!.collect());
    c.collections++;
    c.reportedPages += r.reported;
    if (r.lost.length === 0) {
      c.passed++;
      return;
    }
    c.failed++;
    for (const p of r.lost) {
      const lost = { gfn: p.gpa >>> 12, gpa: p.gpa, collection: c.collections };
      if (c.lostPages++ < MAX_NAMED) c.lost.push(lost);
      onLost?.(lost);
    }
  }

  /** One swap-out, one migration and one KSM merge of random pages of the written region. */
  private hostOps(): void {
    const vmm = this.vmm;
    const gfnAt = (i: number): number => this.region[i]!.gpa >>> 12;
    this.hostOp('swapOut', (i) => vmm.swapOutPage(gfnAt(i)));
    this.hostOp('migrate', (i) => vmm.migratePage(gfnAt(i)) >= 0);
    this.hostOp('ksmMerge', (i) => {
      // Neighbouring pages of one vCPU usually hold the same iteration tag.
      const j = i + 1 < this.region.length ? i + 1 : i - 1;
      return j >= 0 && vmm.ksmMergePages(gfnAt(i), gfnAt(j));
    });
  }

  /** Run `op` on a random region page; count it done, or skipped when the host refuses. */
  private hostOp(counter: 'swapOut' | 'migrate' | 'ksmMerge', op: (i: number) => boolean): void {
    const h = this.c.host;
    const i = this.random(this.region.length);
    try {
      if (op(i)) h[counter]++;
      else h.skipped++;
    } catch (e) {
      // Refusals the host expects (pages differ, changed meanwhile, not
      // resident, swap or pool full); anything else is a real failure.
      if (!(e instanceof KvmError) || !['EINVAL', 'EAGAIN', 'ENOSPC', 'ENOMEM'].includes(e.code)) throw e;
      h.skipped++;
    }
  }

  private random(n: number): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    return (x >>> 0) % n;
  }

  private tag(gpa: number): number {
    const b = kvmReadGuest(this.vmm.vm, gpa, 4);
    return b ? new DataView(b.buffer).getInt32(0, true) : 0;
  }

  /** Wait for every hart to publish its region, then list the pages to check. */
  private async regionPages(regionBase: number): Promise<CheckedPage[]> {
    const vmm = this.vmm;
    const vcpus = vmm.vcpus;
    const pages = this.opts.pages;
    const base = (h: number): number => this.tag(regionBase + 4 * h) >>> 0;
    const t0 = now();
    while (Array.from({ length: vcpus }, (_, h) => base(h)).includes(0)) {
      if (now() - t0 > START_TIMEOUT_MS) throw new KvmError('EBUSY', `torture: the dirty guest did not start its vCPUs within ${START_TIMEOUT_MS / 1000} s`);
      const exit = vmm.exitInfo();
      if (exit) throw new KvmError('EFAULT', `torture: the guest stopped before it started writing (${exit.message ?? `code ${exit.code}`})`);
      await vmm.waitForExit(5);
    }
    const ram = vmm.vm.config.ramBase >>> 0;
    const out: CheckedPage[] = [];
    for (let h = 0; h < vcpus; h++) {
      for (let i = 0; i < pages; i++) out.push({ gpa: base(h) + 4096 * i, bit: (base(h) + 4096 * i - ram) >>> 12 });
    }
    return out;
  }
}
