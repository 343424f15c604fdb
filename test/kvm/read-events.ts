// A one-shot read of the event ring for tests: up to `max` records from
// `cursor` on, copied, with the cursor to pass back and the records lost.
// One EventReader poll; a reader made afresh each call never gives a
// half-written slot up (STUCK_MS): it stops there, and the next call retries.
import { EventReader, type KvmEventRecord } from '../../src/kvm/event-format.ts';

export function readEvents(ev: Int32Array, cursor: number, max: number): { events: KvmEventRecord[]; cursor: number; lost: number } {
  const reader = new EventReader(ev, cursor);
  const events: KvmEventRecord[] = [];
  reader.poll(max, (r) => events.push({ ...r }));
  return { events, cursor: reader.cursor, lost: reader.lost };
}
