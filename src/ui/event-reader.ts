// A main-thread consumer of the hypervisor's event ring (region 'events';
// protocol in src/kvm/event-format.ts, constants mirrored in shared-layout.ts).
//
// Many producers (every vCPU, the VMM) take tickets with Atomics.add and
// publish a record by storing ticket + 1 into its EV_SEQ word last. This
// reader keeps its own cursor (the next ticket it wants), never waits and
// never writes, so any number of panels may read the same ring at once.
// For the slot of ticket n it loads EV_SEQ, the payload, EV_SEQ again, and
// keeps the record only if both loads gave n + 1: a producer that began to
// overwrite the slot meanwhile stored 0 first, so a torn record is dropped
// (counted as lost), never shown.
//
// Nothing is allocated per record: poll() fills one reusable record and hands
// it to the visitor, which must copy what it keeps.
import {
  EV_A, EV_B, EV_C, EV_CAPACITY, EV_HDR_WORDS, EV_HEAD, EV_MASK, EV_RECORD_WORDS, EV_SEQ, EV_TIME_HI,
  EV_TIME_LO, EV_TYPE, EV_VCPU,
} from './shared-layout.ts';

export interface EventRecord {
  /** The record's ticket (mod 2^32). */
  seq: number;
  type: number;
  /** Producing vCPU, or -1 for the VMM. */
  vcpu: number;
  /** µs since the Unix epoch (performance.timeOrigin + now(), the same in every thread). */
  timeUs: number;
  a: number;
  b: number;
  c: number;
}

/**
 * A slot still half-written after this long is given up as lost: its producer
 * died mid-record (a terminated worker). Time, not a number of polls: a
 * producer preempted between its two seq stores can stay half-way for many
 * fast polls, and skipping it then would drop a record that was about to land.
 */
export const STUCK_MS = 1000;

export class EventReader {
  /** The next ticket this reader wants. */
  cursor: number;
  /** Records overwritten (or torn) before this reader got to them, since it started. */
  lost = 0;
  /** Records delivered since it started. */
  read = 0;
  private readonly rec: EventRecord = { seq: 0, type: 0, vcpu: 0, timeUs: 0, a: 0, b: 0, c: 0 };
  private stuckAt = -1;
  private stuckSince = 0;

  /**
   * @param ev the 'events' region as Int32 words
   * @param from 'oldest': start with whatever the ring still holds; 'now': only new records
   * @param clock ms clock for the stuck-slot rule (tests pass a fake one)
   */
  constructor(
    private readonly ev: Int32Array,
    from: 'oldest' | 'now' = 'oldest',
    private readonly clock: () => number = () => performance.now(),
  ) {
    const head = this.head();
    this.cursor = from === 'now' ? head : (head - Math.min(head, EV_CAPACITY)) >>> 0;
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
  poll(max: number, visit: (r: EventRecord) => void, types = 0): number {
    const ev = this.ev;
    const head = this.head();
    let cur = this.cursor;
    const behind = (head - cur) >>> 0;
    if (behind >= 0x80000000) {
      cur = head; // a cursor "from the future": the ring was reset under us
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
        this.lost++;
      } else if (types === 0 || ((types >>> r.type) & 1) !== 0) {
        r.seq = cur;
        r.timeUs = (hi >>> 0) * 4294967296 + (lo >>> 0);
        visit(r);
        n++;
      }
      cur = (cur + 1) >>> 0;
    }
    this.cursor = cur;
    this.read += n;
    return n;
  }

  /** Skip to the head: records already in the ring are ignored. */
  skipToHead(): void {
    this.cursor = this.head();
    this.stuckAt = -1;
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

/** Bit mask of event types for EventReader.poll's filter. */
export function eventTypes(...types: number[]): number {
  let m = 0;
  for (const t of types) m |= 1 << t;
  return m;
}

/** The event clock of this thread: µs since the Unix epoch, comparable with EventRecord.timeUs. */
export function eventNowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
