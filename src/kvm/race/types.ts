// The race lab's data model (issue "The race lab"): what a scenario is, what
// one step of a run records, and the verdict. The engine (src/kvm/race/) fills
// these in on the real workers; the CLI prints them; the UI (through
// vmm-service; src/ui/vmm-api.ts re-exports these types) renders them. Plain
// data only (structured-clone safe): no functions, no typed arrays.

/** A lane of the step diagram: who acts. */
export type RaceLane = 'vcpu0' | 'vcpu1' | 'host' | 'guest';

/** A scenario as listed by `webkvm race list` and the UI. */
export interface RaceScenarioInfo {
  /** Stable id: `webkvm race NAME`, and the link fragment. */
  name: string;
  title: string;
  /** The locking.txt section (or kvm-semantics.md §7 item) it replays. */
  source: string;
  /** The protection the --unsafe run removes, e.g. "spte_has_volatile_bits forces xchg". */
  protection: string;
  /** The lanes it uses, left to right. */
  lanes: RaceLane[];
  /** What the user should see with the protection on and off, one sentence each. */
  expectSafe: string;
  expectUnsafe: string;
}

/** One SPTE as a step shows it. */
export interface RaceSpte {
  /** What it is in the story ("SPTE for gva 0x40001000 (gfn1)"). */
  label: string;
  /** Index into the 'spt' region, or -1 if the entry does not exist (yet). */
  loc: number;
  /** Raw 32-bit value (unsigned). */
  value: number;
  /** Decoded flags by their kernel names: PRESENT, W, U, A, D, HOST_WRITEABLE, MMU_WRITEABLE... */
  flags: string[];
  /** Host pfn the SPTE maps, or -1. */
  pfn: number;
}

/** One page's dirty state as a step shows it. */
export interface RaceDirty {
  gfn: number;
  /** The live bit in the slot's dirty bitmap. */
  live: boolean;
  /** Reported by a collection made so far in this run. */
  collected: boolean;
  /** The host page's dirty flag (kvm_set_pfn_dirty), for the lost-dirty-bit story; null if n/a. */
  hostDirty: boolean | null;
}

/** A vCPU's software-TLB entries that matter to the story. */
export interface RaceTlbEntry {
  vcpu: number;
  gva: number;
  /** Host pfn the entry points at. */
  pfn: number;
  writable: boolean;
}

/** What the world looked like right after a step. */
export interface RaceSnapshot {
  sptes: RaceSpte[];
  dirty: RaceDirty[];
  tlb: RaceTlbEntry[];
  /** Other named values (mmu_notifier_seq, a vCPU's mode and requests, a gfn->pfn mapping...). */
  notes: Record<string, string | number>;
}

/** One step of a run. */
export interface RaceStep {
  index: number;
  lane: RaceLane;
  /** What happened, in one line ("fastPageFault: read SPTE 0x...; parked before cmpxchg"). */
  action: string;
  /** The pause point this lane is parked at after the step, if any (a PausePoint name). */
  parkedAt: string | null;
  /** Why it matters. */
  narrative: string;
  /** The doc's own words, quoted (locking.txt 3.6), where the step illustrates one. */
  quote: string | null;
  snapshot: RaceSnapshot;
}

/** Found by a checker over the final state, never asserted by the script. */
export interface RaceVerdict {
  /** The checker that looked ("dirty-log completeness", "host dirty flag"...). */
  checker: string;
  /** What it found wrong: empty when the run ended clean. */
  violations: string[];
  /** True iff the outcome is the one expected for this setting (clean when safe, OOPS when unsafe). */
  expected: boolean;
}

export interface RaceRun {
  scenario: string;
  /** The protection was switched off. */
  unsafe: boolean;
  steps: RaceStep[];
  verdict: RaceVerdict;
}
