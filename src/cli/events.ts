// `webkvm events`: the hypervisor's event ring as text. Runs the program as
// `webkvm run` would and prints every event the vCPUs and the VMM record
// (faults, remote TLB flushes, write-protects, zaps, dirty-log collections,
// contended locks) as one line each, while the guest runs: the same stream
// the app's TLB timeline and locks panel read from shared memory.
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { OBSERVE_OPTIONS, startObserved } from './observe.ts';
import { exitCodeFor } from './run.ts';
import {
  DIRTY_OP_NAMES, EV_DIRTY_COLLECT, EV_FAST_PF_FAILED, EV_FAST_PF_FIXED, EV_GUEST_FAULT, EV_LOCK_CONTENDED,
  EV_SLOW_PF, EV_TLB_FLUSH, EV_TYPE_NAMES, EV_WRITE_PROTECT, EV_ZAP, eventsHead, flushEventCause, flushEventTargets,
  EventReader, WP_CAUSE_DIRTY_LOG, type KvmEventRecord,
} from '../kvm/events.ts';
import { FLUSH_CAUSE_NAMES, LOCK_NAMES } from '../kvm/fields.ts';
import { EXITK_LIMIT } from '../kvm/vcpu-ctl.ts';

const OPTIONS: OptionSpecs = {
  ...OBSERVE_OPTIONS,
  types: { type: 'string', arg: 'T,...', help: `only these types: ${EV_TYPE_NAMES.slice(1).join(', ')}` },
  limit: { type: 'int', min: 1, arg: 'N', help: 'stop after printing N events' },
  json: { type: 'flag', help: 'one JSON object per event' },
};

export const EVENTS_HELP = `usage: webkvm events <prog.elf|prog.S|guest> [options]

Runs the program and prints the hypervisor's event ring as it fills, one line
per event: seconds since start, who (vcpuN or vmm), the type, its payload.
Stops when the guest exits, after --limit events, --timeout seconds, or Ctrl-C.

options:
${formatOptions(OPTIONS)}

example:
  webkvm events dirty --vcpus 4 --collect 50 --types tlb_flush,lock_contended --timeout 2`;

/** Parse --types into a bit mask (bit t = type t); 0 = all. */
export function parseTypes(spec: string | undefined): number {
  if (spec === undefined) return 0;
  let mask = 0;
  for (const name of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const t = EV_TYPE_NAMES.indexOf(name);
    if (t <= 0) throw new UsageError(`--types: unknown event type '${name}' (known: ${EV_TYPE_NAMES.slice(1).join(', ')})`);
    mask |= 1 << t;
  }
  return mask;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const slug = (s: string) => s.replace(/[^a-z0-9]+/g, '-');

/** An event's payload, decoded into named fields (names as the kernel's tracepoints would use). */
export function eventFields(e: KvmEventRecord, vcpus: number): Record<string, number | string> {
  switch (e.type) {
    case EV_FAST_PF_FIXED:
    case EV_FAST_PF_FAILED:
    case EV_SLOW_PF:
      return { gfn: hex(e.a), spte: hex(e.b) };
    case EV_GUEST_FAULT:
      return { vaddr: hex(e.a), scause: e.b };
    case EV_TLB_FLUSH: {
      const targets = flushEventTargets(e.a, vcpus);
      return {
        cause: slug(FLUSH_CAUSE_NAMES[flushEventCause(e.a)] ?? String(flushEventCause(e.a))),
        targets: vcpuList(targets),
        waited: e.b >>> 0,
        latency_us: e.c >>> 0,
      };
    }
    case EV_WRITE_PROTECT:
      return { gfn: hex(e.a), count: e.b >>> 0, cause: e.c === WP_CAUSE_DIRTY_LOG ? 'dirty-log' : 'shadow-pt' };
    case EV_ZAP:
      return { sp: e.a, gfn: hex(e.b), role: hex(e.c) };
    case EV_DIRTY_COLLECT:
      return { op: DIRTY_OP_NAMES[e.a >>> 16] ?? String(e.a >>> 16), slot: e.a & 0xffff, pages: e.b >>> 0, us: e.c >>> 0 };
    case EV_LOCK_CONTENDED:
      return { lock: LOCK_NAMES[e.a] ?? `lock${e.a}`, wait_ns: e.b >>> 0 };
    default:
      return { a: e.a, b: e.b, c: e.c };
  }
}

function vcpuList(mask: number): string {
  const ids: number[] = [];
  for (let v = 0; v < 32; v++) if ((mask >>> v) & 1) ids.push(v);
  return ids.length ? ids.join('+') : 'none';
}

/** One event as a text line: "  0.012345 vcpu2 tlb_flush cause=remote-fence targets=1+3 waited=2 latency_us=40". */
export function formatEventLine(e: KvmEventRecord, t0Us: number, vcpus: number): string {
  const who = e.vcpu >= 0 ? `vcpu${e.vcpu}` : 'vmm';
  const fields = Object.entries(eventFields(e, vcpus)).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${((e.timeUs - t0Us) / 1e6).toFixed(6).padStart(11)} ${who.padEnd(5)} ${(EV_TYPE_NAMES[e.type] ?? `type${e.type}`).padEnd(14)} ${fields}`;
}

/** One event as a JSON line's object. */
export function eventJson(e: KvmEventRecord, t0Us: number, vcpus: number): Record<string, unknown> {
  return { seq: e.seq, t: (e.timeUs - t0Us) / 1e6, vcpu: e.vcpu, type: EV_TYPE_NAMES[e.type] ?? `type${e.type}`, ...eventFields(e, vcpus) };
}

export async function eventsCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  const types = parseTypes(options.types as string | undefined);
  const limit = options.limit as number | undefined;
  const json = options.json === true;
  const obs = await startObserved(positional, options, 'events');
  const ev = obs.vmm.vm.view('events');
  const vcpus = obs.vmm.vcpus;
  // One reader for the whole run: it keeps its cursor and the stuck-slot rule (a record a
  // dead producer left half-written is skipped after STUCK_MS instead of stalling the output).
  const reader = new EventReader(ev, 0); // the ring starts empty with the VM: read it all
  let printed = 0;
  let t0Us = -1;
  let broken = false;
  const onError = () => (broken = true); // e.g. EPIPE from `| head`
  process.stdout.on('error', onError);
  const full = () => limit !== undefined && printed >= limit;
  let out = '';
  const visit = (e: KvmEventRecord): void => {
    if (full()) return;
    if (t0Us < 0) t0Us = e.timeUs;
    out += json ? JSON.stringify(eventJson(e, t0Us, vcpus)) + '\n' : formatEventLine(e, t0Us, vcpus) + '\n';
    printed++;
  };
  const drain = (): boolean => {
    out = '';
    for (;;) {
      const before = reader.cursor;
      reader.poll(4096, visit, types);
      if (full() || reader.cursor === before || reader.cursor === eventsHead(ev)) break;
    }
    if (out && !broken) process.stdout.write(out);
    return full() || broken;
  };
  try {
    for (;;) {
      const exit = await obs.wait(20);
      const done = drain();
      if (done) return EXIT_OK;
      if (exit) {
        drain();
        process.stderr.write(`webkvm events: ${printed} events printed${reader.lost ? `, ${reader.lost} lost (the ring overflowed; use --types or fewer vCPUs)` : ''}\n`);
        return exit.kind !== EXITK_LIMIT ? exitCodeFor(exit) : EXIT_OK;
      }
    }
  } finally {
    process.stdout.off('error', onError);
    await obs.destroy();
  }
}
