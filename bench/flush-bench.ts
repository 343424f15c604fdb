// Remote TLB flush round trip with busy vCPUs: real vCPU workers run the
// compute guest (an integer loop that never exits), and this thread, the VMM,
// calls kvmFlushRemoteTlbs once every vCPU is back in guest mode and has run
// for GAP_MS (back-to-back flushes would find the vCPUs still outside guest
// mode, processing the previous request, and not wait for them). Each call sets KVM_REQ_TLB_FLUSH on
// every vCPU, kicks the ones in guest mode to EXITING, and waits (Atomics.wait)
// until each of them has seen the request at its next poll point, flushed its
// TLB and acknowledged. The figure is the whole call as the requester sees it,
// median and p99 over all flushes.
//   flush.rtt_us.vcpusN.median / .p99
// The note gives how many vCPUs each flush actually waited for (they must be
// in guest mode, i.e. busy, for the figure to mean anything).
import { Vmm } from '../src/kvm/vmm.ts';
import { kvmFlushRemoteTlbs, IN_GUEST_MODE } from '../src/kvm/requests.ts';
import { KVCPU_MODE, KVCPU_WORDS, STAT_FLUSH_IPIS } from '../src/kvm/fields.ts';
import { spawnVcpuNode } from '../workers/node-spawn.ts';
import { guestElf } from '../src/guests/build.ts';
import type { Row } from './bench.ts';
import { median, quantile, sleep } from './stats.ts';

/** No FLUSH_CAUSE_*: the benchmark's flushes are not counted against a real cause. */
const NO_CAUSE = -1;

/** Pause between flushes, so the vCPUs run guest code again. */
const GAP_MS = 0.2;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread (the VMM may: it is not a browser main thread) until every vCPU is in guest mode, up to 50 ms. */
function untilAllInGuest(vmm: Vmm): void {
  const v = vmm.vm.kvmVcpu;
  for (let k = 0; k < 1000; k++) {
    let all = true;
    for (let i = 0; i < vmm.vcpus; i++) if (Atomics.load(v, i * KVCPU_WORDS + KVCPU_MODE) !== IN_GUEST_MODE) all = false;
    if (all) return;
    Atomics.wait(nap, 0, 0, 0.05);
  }
}

/** Wait (up to 10 s) until every vCPU has been seen in guest mode. */
async function allInGuest(vmm: Vmm): Promise<void> {
  const seen = new Set<number>();
  const t0 = Date.now();
  while (seen.size < vmm.vcpus) {
    for (let v = 0; v < vmm.vcpus; v++) {
      if (Atomics.load(vmm.vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_MODE) === IN_GUEST_MODE) seen.add(v);
    }
    if (vmm.exitInfo()) throw new Error('flush bench: the compute guest exited before every vCPU was busy');
    if (Date.now() - t0 > 10_000) throw new Error(`flush bench: only ${seen.size} of ${vmm.vcpus} vCPUs reached guest mode`);
    await sleep(2);
  }
}

export async function benchFlush(vcpus: number, scale = 1): Promise<Row[]> {
  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    vmm.loadElf(await guestElf('compute', { iterations: 1_000_000 }), 'compute');
    vmm.run();
    await allInGuest(vmm);
    await sleep(50); // past the harts' start-up
    const count = Math.max(200, Math.round(1000 * scale));
    const budgetMs = 3000 * Math.max(scale, 0.3);
    for (let i = 0; i < 50; i++) kvmFlushRemoteTlbs(vmm.kvm, NO_CAUSE);
    const ipis0 = Atomics.load(vmm.vm.stats, STAT_FLUSH_IPIS);
    const us: number[] = [];
    const start = performance.now();
    while (us.length < count && performance.now() - start < budgetMs) {
      Atomics.wait(nap, 0, 0, GAP_MS);
      untilAllInGuest(vmm);
      const t0 = performance.now();
      kvmFlushRemoteTlbs(vmm.kvm, NO_CAUSE);
      us.push((performance.now() - t0) * 1000);
    }
    const waited = (Atomics.load(vmm.vm.stats, STAT_FLUSH_IPIS) - ipis0) / us.length;
    if (vmm.exitInfo()) throw new Error('flush bench: the compute guest exited during the measurement');
    const note = `${us.length} flushes, ${waited.toFixed(2)} of ${vcpus} vCPUs waited for per flush`;
    return [
      { name: `flush.rtt_us.vcpus${vcpus}.median`, value: median(us), unit: 'us', note, target: vcpus === 2 ? { op: '<=', value: 50 } : undefined },
      { name: `flush.rtt_us.vcpus${vcpus}.p99`, value: quantile(us, 0.99), unit: 'us' },
    ];
  } finally {
    await vmm.destroy();
  }
}
