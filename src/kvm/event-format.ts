// The event ring's format: region 'events' of `hv` (events.ts writes it),
// and its one reader, EventReader. Constants and pure code only, and no
// imports: a UI panel or the CLI reads the ring without pulling in
// hypervisor code (docs/design.md, "What the UI may import").
//
// Region 'events' (Int32 words):
//   [0, EV_HDR_WORDS)   header: EV_HEAD (tickets handed out so far, wraps at
//                       2^32), EV_DISABLED (nonzero: producers record nothing)
//   then EV_CAPACITY records of EV_RECORD_WORDS:
//     EV_SEQ    ticket + 1 of the record in this slot once it is complete
//               (0 while a producer writes it; the ticket of a slot's
//               occupant is any n with n & EV_MASK = slot)
//     EV_TYPE   EV_* below
//     EV_VCPU   the producing vCPU, or -1 for the VMM / a non-vCPU thread
//     EV_TIME_LO, EV_TIME_HI  µs since the Unix epoch (eventClockUs:
//               performance.timeOrigin + performance.now(), so every
//               thread's clock agrees), uint64
//     EV_A, EV_B, EV_C  payload, by type (EV_PAYLOAD_NAMES)
//
// Producers (events.ts kvmEvent): ticket = Atomics.add(EV_HEAD, 1); store 0
// into the slot's EV_SEQ; store the payload; store ticket + 1 into EV_SEQ last.
// The two seq stores are Atomics.store (the payload stores are plain, for
// speed): the final seq store publishes the payload to a reader whose
// Atomics.load sees it, and the reader's seq re-check rejects a record that
// a producer started overwriting while it was read. A producer
// never waits: it overwrites the oldest record when the ring is full.
//
// A reader (EventReader) keeps its own cursor (the next ticket it wants),
// never waits and never writes, so any number of them (panels, the CLI) may
// read the ring at once. For the slot of ticket n it loads EV_SEQ, the
// payload, then EV_SEQ again, and accepts the record only if both loads gave
// n + 1 (a seqlock read: a producer that started overwriting the slot in
// between stored 0 first, so a torn record is dropped, never shown). A slot
// that still holds an older lap (or 0) is a record being written: the reader
// stops there and retries next poll, unless it stays so for STUCK_MS. A slot
// that holds a newer lap, or a cursor more than EV_CAPACITY behind EV_HEAD,
// means records were overwritten before they were read: counted as lost.

export const EV_HEAD = 0;
export const EV_DISABLED = 1;
export const EV_HDR_WORDS = 16;

export const EV_SEQ = 0;
export const EV_TYPE = 1;
export const EV_VCPU = 2;
export const EV_TIME_LO = 3;
export const EV_TIME_HI = 4;
export const EV_A = 5;
export const EV_B = 6;
export const EV_C = 7;
export const EV_RECORD_WORDS = 8;

/** Records in the ring (a power of two): 16384 * 32 bytes = 512 KiB. */
export const EV_CAPACITY = 16384;
export const EV_MASK = EV_CAPACITY - 1;
export const EV_REGION_WORDS = EV_HDR_WORDS + EV_CAPACITY * EV_RECORD_WORDS;

// Event types. Payload (a, b, c):
/** fast_page_fault fixed the SPTE with cmpxchg: (gfn, new spte, 0). */
export const EV_FAST_PF_FIXED = 1;
/** fast_page_fault lost the cmpxchg race: (gfn, spte it expected, 0). */
export const EV_FAST_PF_FAILED = 2;
/** The slow path installed a leaf SPTE under mmu_lock: (gfn, spte, 0). */
export const EV_SLOW_PF = 3;
/** A fault was the guest's own and is injected into it: (vaddr, scause, 0). */
export const EV_GUEST_FAULT = 4;
/** kvm_flush_remote_tlbs: (FLUSH_CAUSE_*, vCPUs waited for, latency µs). */
export const EV_TLB_FLUSH = 5;
/** SPTEs write-protected: (first gfn, pages or SPTEs, WP_CAUSE_*). */
export const EV_WRITE_PROTECT = 6;
/** A shadow page zapped: (sp index, its gfn, its role). */
export const EV_ZAP = 7;
/** GET/CLEAR_DIRTY_LOG: (slot | DIRTY_OP_* << 16, pages collected, µs). */
export const EV_DIRTY_COLLECT = 8;
/** A lock acquisition that had to wait: (lock id, wait ns (saturated at 2^31-1), 0). */
export const EV_LOCK_CONTENDED = 9;

export const EV_TYPE_NAMES: readonly string[] = [
  'none', 'fast_pf_fixed', 'fast_pf_failed', 'slow_pf', 'guest_fault', 'tlb_flush', 'write_protect', 'zap',
  'dirty_collect', 'lock_contended',
];
/** What a, b and c mean for each type (for tables and the CLI). */
export const EV_PAYLOAD_NAMES: readonly (readonly [string, string, string])[] = [
  ['', '', ''],
  ['gfn', 'spte', ''],
  ['gfn', 'spte', ''],
  ['gfn', 'spte', ''],
  ['vaddr', 'cause', ''],
  ['cause', 'vcpus_waited', 'latency_us'],
  ['gfn', 'count', 'cause'],
  ['sp', 'gfn', 'role'],
  ['slot_op', 'pages', 'us'],
  ['lock', 'wait_ns', ''],
];

/** EV_WRITE_PROTECT causes. */
export const WP_CAUSE_DIRTY_LOG = 0; // GET/CLEAR_DIRTY_LOG: (base gfn of a bitmap word, pages)
export const WP_CAUSE_SHADOW_PT = 1; // a guest page table became shadowed: (its gfn, SPTEs)
/** EV_DIRTY_COLLECT operations (a >>> 16). */
export const DIRTY_OP_GET = 0;
export const DIRTY_OP_CLEAR = 1;
export const DIRTY_OP_RING_RESET = 2;
export const DIRTY_OP_NAMES: readonly string[] = ['get', 'clear', 'ring reset'];

// ── EV_TLB_FLUSH word a: the cause, and which vCPUs the flush targeted ───────
// kvm_flush_remote_tlbs may name a subset of vCPUs (an SBI remote fence's hart
// mask). Word a keeps the FLUSH_CAUSE_* in its low byte, so a reader that only
// wants the cause still gets it when every vCPU was targeted, and bits 8-15
// hold the vCPUs (0..MAX_VCPUS-1) that were NOT targeted: 0 means "all", the
// common case, and the payload stays a = cause exactly as before.
export const EV_FLUSH_CAUSE_MASK = 0xff;
export const EV_FLUSH_SKIP_SHIFT = 8;

/** Word a of an EV_TLB_FLUSH for `cause` sent to the vCPUs in `mask` (bit i = vCPU i). */
export function flushEventA(cause: number, mask: number): number {
  return (cause & EV_FLUSH_CAUSE_MASK) | ((~mask & 0xff) << EV_FLUSH_SKIP_SHIFT);
}

/** The FLUSH_CAUSE_* of an EV_TLB_FLUSH's word a. */
export function flushEventCause(a: number): number {
  return a & EV_FLUSH_CAUSE_MASK;
}

/** The vCPUs (bit i = vCPU i, below `vcpus`) an EV_TLB_FLUSH with word a targeted. */
export function flushEventTargets(a: number, vcpus: number): number {
  const all = vcpus >= 31 ? 0x7fffffff : (1 << vcpus) - 1;
  return ~(a >>> EV_FLUSH_SKIP_SHIFT) & 0xff & all;
}

const hasPerf = typeof performance !== 'undefined' && typeof performance.now === 'function';
/** The epoch time of this thread's performance.now() zero, in ms. */
const origin = hasPerf && typeof performance.timeOrigin === 'number' ? performance.timeOrigin : 0;

/**
 * The event clock: µs since the Unix epoch, the same in every thread
 * (timeOrigin differs per thread, now() compensates). Producers stamp records
 * with it; a reader compares KvmEventRecord.timeUs with it.
 */
export function eventClockUs(): number {
  return hasPerf ? Math.floor((origin + performance.now()) * 1000) : Date.now() * 1000;
}

export interface KvmEventRecord {
  /** The record's ticket (position in the stream since the VM started, mod 2^32). */
  seq: number;
  type: number;
  /** The producing vCPU, or -1 for the VMM. */
  vcpu: number;
  /** µs since the Unix epoch (eventClockUs, the same clock in every thread). */
  timeUs: number;
  a: number;
  b: number;
  c: number;
}

/** The cursor of a reader that wants only events from now on. */
export function eventsHead(ev: Int32Array): number {
  return Atomics.load(ev, EV_HEAD) >>> 0;
}

/** Is recording on? */
export function eventsEnabled(ev: Int32Array): boolean {
  return Atomics.load(ev, EV_DISABLED) === 0;
}

/** Turn recording on or off (the UI's switch; any thread). */
export function setEventsEnabled(ev: Int32Array, on: boolean): void {
  Atomics.store(ev, EV_DISABLED, on ? 0 : 1);
}

/**
 * A slot still half-written after this long is given up as lost: its producer
 * died mid-record (a terminated worker). Time, not a number of polls: a
 * producer preempted between its two seq stores can stay half-way for many
 * fast polls, and skipping it then would drop a record that was about to land.
 */
export const STUCK_MS = 1000;

/** Bit mask of event types for EventReader.poll's filter (bit t = type t). */
export function eventTypes(...types: number[]): number {
  let m = 0;
  for (const t of types) m |= 1 << t;
  return m;
}

/**
 * A consumer of the ring with its own cursor (protocol above). Nothing is
 * allocated per record: poll() fills one reusable record and hands it to the
 * visitor, which must copy what it keeps.
 */
export class EventReader {
  /** The next ticket this reader wants. */
  cursor: number;
  /** Records overwritten (or torn) before this reader got to them, since it started. */
  lost = 0;
  private readonly rec: KvmEventRecord = { seq: 0, type: 0, vcpu: 0, timeUs: 0, a: 0, b: 0, c: 0 };
  private stuckAt = -1;
  private stuckSince = 0;

  /**
   * @param ev the 'events' region as Int32 words (vm.view('events'), or the UI's region view)
   * @param from 'oldest': start with whatever the ring still holds; 'now': only new
   *   records; a number: that ticket (a cursor kept from an earlier reader)
   * @param clock ms clock for the stuck-slot rule (tests pass a fake one)
   */
  constructor(
    private readonly ev: Int32Array,
    from: 'oldest' | 'now' | number = 'oldest',
    private readonly clock: () => number = () => performance.now(),
  ) {
    const head = this.head();
    if (typeof from === 'number') this.cursor = from >>> 0;
    else this.cursor = from === 'now' ? head : (head - Math.min(head, EV_CAPACITY)) >>> 0;
  }

  /** Tickets handed out so far (mod 2^32). */
  head(): number {
    return Atomics.load(this.ev, EV_HEAD) >>> 0;
  }

  /**
   * Deliver up to `max` complete records from the cursor on, oldest first.
   * `types` (bit t = type t, 0 = all) filters which ones reach `visit`; the
   * cursor moves past the others too. Returns the records delivered.
   */
  poll(max: number, visit: (r: KvmEventRecord) => void, types = 0): number {
    const ev = this.ev;
    const head = this.head();
    let cur = this.cursor;
    const behind = (head - cur) >>> 0;
    if (behind >= 0x80000000) {
      cur = head; // a cursor "from the future": the ring was reset under us (or another VM's)
    } else if (behind > EV_CAPACITY) {
      this.lost += behind - EV_CAPACITY;
      cur = (head - EV_CAPACITY) >>> 0;
    }
    let n = 0;
    let scanned = 0;
    const r = this.rec;
    // Bound the scan too, not just the deliveries, so a filter cannot make one frame long.
    while (cur !== head && n < max && scanned < EV_CAPACITY) {
      scanned++;
      const base = EV_HDR_WORDS + (cur & EV_MASK) * EV_RECORD_WORDS;
      const want = (cur + 1) | 0;
      const s1 = Atomics.load(ev, base + EV_SEQ);
      if (s1 !== want) {
        if (s1 !== 0 && ((s1 - want) | 0) > 0) {
          this.lost++; // a later lap already took the slot
          cur = (cur + 1) >>> 0;
          continue;
        }
        if (this.giveUp(cur)) {
          this.lost++;
          cur = (cur + 1) >>> 0;
          continue;
        }
        break; // still being written: try again next poll
      }
      r.type = Atomics.load(ev, base + EV_TYPE);
      r.vcpu = Atomics.load(ev, base + EV_VCPU);
      const lo = Atomics.load(ev, base + EV_TIME_LO);
      const hi = Atomics.load(ev, base + EV_TIME_HI);
      r.a = Atomics.load(ev, base + EV_A);
      r.b = Atomics.load(ev, base + EV_B);
      r.c = Atomics.load(ev, base + EV_C);
      if (Atomics.load(ev, base + EV_SEQ) !== want) {
        this.lost++; // a producer of a later lap started on this slot while we read it
      } else if (types === 0 || ((types >>> r.type) & 1) !== 0) {
        r.seq = cur;
        r.timeUs = (hi >>> 0) * 4294967296 + (lo >>> 0);
        visit(r);
        n++;
      }
      cur = (cur + 1) >>> 0;
    }
    this.cursor = cur;
    return n;
  }

  /** A slot that stays half-written for STUCK_MS is skipped, so a dead producer cannot stall the reader. */
  private giveUp(cur: number): boolean {
    const now = this.clock();
    if (this.stuckAt !== cur) {
      this.stuckAt = cur;
      this.stuckSince = now;
      return false;
    }
    return now - this.stuckSince > STUCK_MS;
  }
}

/** A record as a short line (CLI, logs). */
export function formatEvent(e: KvmEventRecord): string {
  const names = EV_PAYLOAD_NAMES[e.type] ?? ['a', 'b', 'c'];
  const who = e.vcpu >= 0 ? `vcpu${e.vcpu}` : 'vmm';
  let s = `${e.seq} ${who} ${EV_TYPE_NAMES[e.type] ?? `type${e.type}`}`;
  const vals = [e.a, e.b, e.c];
  for (let i = 0; i < 3; i++) if (names[i] !== '') s += ` ${names[i]}=${vals[i]! >>> 0}`;
  return s;
}
