// The event ring's format: region 'events' of `hv` (events.ts writes it).
// Constants and a pure reader only, and no imports: a UI panel or the CLI
// reads the ring with readEvents() without pulling in hypervisor code.
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
//     EV_TIME_LO, EV_TIME_HI  µs since the Unix epoch (performance.timeOrigin
//               + performance.now(), so every thread's clock agrees), uint64
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
// A reader (readEvents) keeps its own cursor (the next ticket it wants), never
// waits and never writes. For the slot of ticket n it loads EV_SEQ, the
// payload, then EV_SEQ again, and accepts the record only if both loads gave
// n + 1 (a seqlock read: a producer that started overwriting the slot in
// between stored 0 first). A slot that still holds an older lap (or 0) is a
// record being written: the reader stops there and retries next poll. A slot
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

export interface KvmEventRecord {
  /** The record's ticket (position in the stream since the VM started, mod 2^32). */
  seq: number;
  type: number;
  vcpu: number;
  /** µs since the Unix epoch (same clock in every thread). */
  timeUs: number;
  a: number;
  b: number;
  c: number;
}

export interface ReadEventsResult {
  events: KvmEventRecord[];
  /** Pass this back as the next call's cursor. */
  cursor: number;
  /** Records overwritten before this call could read them. */
  lost: number;
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
 * Read up to `max` complete records from `cursor` on. Never waits, never
 * writes: safe on the main thread. `ev` is the 'events' region of hv
 * (vm.view('events'), or an Int32Array made from the layout's offsets).
 */
export function readEvents(ev: Int32Array, cursor: number, max: number): ReadEventsResult {
  const events: KvmEventRecord[] = [];
  let cur = cursor >>> 0;
  let lost = 0;
  const head = Atomics.load(ev, EV_HEAD) >>> 0;
  const behind = (head - cur) >>> 0;
  if (behind > EV_CAPACITY && behind < 0x80000000) {
    lost += behind - EV_CAPACITY;
    cur = (head - EV_CAPACITY) >>> 0;
  } else if (behind >= 0x80000000) {
    cur = head; // a cursor from the future (another VM, a reset): start at now
  }
  while (cur !== head && events.length < max) {
    const base = EV_HDR_WORDS + (cur & EV_MASK) * EV_RECORD_WORDS;
    const want = (cur + 1) | 0;
    const s1 = Atomics.load(ev, base + EV_SEQ);
    if (s1 !== want) {
      // Newer lap: overwritten (lost). Older lap or 0: still being written.
      if (s1 !== 0 && ((s1 - want) | 0) > 0) {
        lost++;
        cur = (cur + 1) >>> 0;
        continue;
      }
      break;
    }
    const type = Atomics.load(ev, base + EV_TYPE);
    const vcpu = Atomics.load(ev, base + EV_VCPU);
    const lo = Atomics.load(ev, base + EV_TIME_LO);
    const hi = Atomics.load(ev, base + EV_TIME_HI);
    const a = Atomics.load(ev, base + EV_A);
    const b = Atomics.load(ev, base + EV_B);
    const c = Atomics.load(ev, base + EV_C);
    if (Atomics.load(ev, base + EV_SEQ) !== want) {
      lost++; // a producer of a later lap started on this slot while we read it
    } else {
      events.push({ seq: cur, type, vcpu, timeUs: (hi >>> 0) * 4294967296 + (lo >>> 0), a, b, c });
    }
    cur = (cur + 1) >>> 0;
  }
  return { events, cursor: cur, lost };
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
