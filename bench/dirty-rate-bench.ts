// Dirty pages per second: the dirty guest (KVM's dirty_log_perf_test) on N
// vCPU workers, every hart storing into each page of its own region, pass
// after pass. The figure is the pages the guest wrote per second, counted by
// the guest itself: each hart publishes the number of passes it completed
// (iterations_done[h]) and a pass writes pages_per_vcpu pages.
//   dirty.pages_per_s.vcpusN.log_off  no dirty logging: after the first pass
//                                     nothing faults (each store still misses
//                                     the 256-entry TLB and walks the SPTEs)
//   dirty.pages_per_s.vcpusN.log_on   KVM_MEM_LOG_DIRTY_PAGES, and this thread
//                                     (the VMM) calls GET_DIRTY_LOG every
//                                     INTERVAL_MS: each collection write-protects
//                                     the dirty pages and flushes the TLBs, so the
//                                     next store to each is a fast page fault
// Windows with logging off and on alternate in one VM (so both see the same
// load); each figure is the median of its 5 windows.
import { Vmm } from '../src/kvm/vmm.ts';
import { kvmReadGuest } from '../src/kvm/memslot.ts';
import { spawnVcpuNode } from '../workers/node-spawn.ts';
import { bitmapWeight } from '../src/kvm/bitops.ts';
import { guestElf } from '../src/guests/build.ts';
import type { Row } from './bench.ts';
import { median, sleep } from './stats.ts';

const PAGES_PER_VCPU = 1024;
const INTERVAL_MS = 10;

function word(vmm: Vmm, gpa: number): number {
  const b = kvmReadGuest(vmm.vm, gpa, 4);
  return b ? new DataView(b.buffer).getUint32(0, true) : 0;
}

interface Rates {
  off: number;
  on: number;
  collectedPerS: number;
  getsPerS: number;
}

/** Settling time after logging is switched: the next window starts from the new steady state. */
const SETTLE_MS = 20;

/**
 * One VM; windows with logging off and on alternate, so that both see the
 * same load on a shared machine (separate runs a minute apart can differ 10x).
 */
async function dirtyRates(vcpus: number, windows: number, windowMs: number): Promise<Rates> {
  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    const prog = vmm.loadElf(await guestElf('dirty', { pages_per_vcpu: PAGES_PER_VCPU, max_iterations: 0, pattern: 0 }), 'dirty');
    const done = prog.symbols.get('iterations_done')!;
    const passes = (): number => {
      let n = 0;
      for (let h = 0; h < vcpus; h++) n += word(vmm, done + 4 * h);
      return n;
    };
    vmm.run();
    // Started: every hart has finished a pass (its region is backed and mapped).
    const t0 = Date.now();
    for (;;) {
      let ready = 0;
      for (let h = 0; h < vcpus; h++) if (word(vmm, done + 4 * h) > 0) ready++;
      if (ready === vcpus) break;
      if (vmm.exitInfo()) throw new Error(`dirty bench: the guest exited (${vmm.exitInfo()!.message ?? 'code ' + vmm.exitInfo()!.code})`);
      if (Date.now() - t0 > 10_000) throw new Error(`dirty bench: only ${ready} of ${vcpus} harts started within 10 s`);
      await sleep(2);
    }
    const off: number[] = [];
    const on: number[] = [];
    const collected: number[] = [];
    const gets: number[] = [];
    for (let w = 0; w < 2 * windows; w++) {
      const logging = w % 2 === 1;
      vmm.setDirtyLogging(logging);
      await sleep(SETTLE_MS);
      if (logging) vmm.getDirtyLog(0); // start from a collection, as in steady state
      const p0 = passes();
      const start = performance.now();
      let bits = 0;
      let n = 0;
      while (performance.now() - start < windowMs) {
        await sleep(INTERVAL_MS);
        if (!logging) continue;
        const log = vmm.getDirtyLog(0);
        n++;
        bits += bitmapWeight(log);
      }
      const secs = (performance.now() - start) / 1000;
      const rate = ((passes() - p0) * PAGES_PER_VCPU) / secs;
      if (!logging) {
        off.push(rate);
        continue;
      }
      on.push(rate);
      collected.push(bits / secs);
      gets.push(n / secs);
    }
    if (vmm.exitInfo()) throw new Error('dirty bench: the guest exited during the measurement');
    return { off: median(off), on: median(on), collectedPerS: median(collected), getsPerS: median(gets) };
  } finally {
    await vmm.destroy();
  }
}

export async function benchDirtyRate(vcpus: number, scale = 1): Promise<Row[]> {
  const windows = 5;
  const windowMs = Math.max(100, Math.round(300 * scale));
  const r = await dirtyRates(vcpus, windows, windowMs);
  const note = `${vcpus} x ${PAGES_PER_VCPU} pages, sequential`;
  return [
    { name: `dirty.pages_per_s.vcpus${vcpus}.log_off`, value: r.off, unit: 'pages/s', note },
    { name: `dirty.pages_per_s.vcpus${vcpus}.log_on`, value: r.on, unit: 'pages/s', note: `${note}, GET_DIRTY_LOG every ${INTERVAL_MS} ms` },
    {
      name: `dirty.collected_per_s.vcpus${vcpus}.log_on`, value: r.collectedPerS, unit: 'pages/s',
      note: `dirty bits GET_DIRTY_LOG returned, ${r.getsPerS.toFixed(0)} GETs/s`,
    },
  ];
}
