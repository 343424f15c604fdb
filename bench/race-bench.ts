// What the race lab's pause points cost when they are not armed (every VM but
// the lab's own): the fast page fault, the path with the most points on it
// (before the cmpxchg, before markPageDirty, and guest entry), timed
//   race.fast_pf_ns.unarmed    in a normal VM: RACE_ARMED = 0, each point is
//                              one plain load of a shared word and a branch
//   race.fast_pf_ns.lab_vm     RACE_ARMED = 1 on a thread that is no lane:
//                              each point also calls racePoint(), which
//                              returns at once (an upper bound of "unarmed")
//   race.point_check_ns        the five unarmed checks of one fast fault
//                              timed alone, against an empty loop
// Rounds alternate between the two VMs so machine load hits both alike.
import { ACC_WRITE, PRV_M } from '../src/cpu/memory.ts';
import { KVCPU_STAT_FAST_PF_FIXED, KVM_MEM_LOG_DIRTY_PAGES, RACE_ARMED } from '../src/kvm/fields.ts';
import { Kvm } from '../src/kvm/kvm-host.ts';
import { RP_FAST_PF_BEFORE_MARK, racePoint } from '../src/kvm/race/pause-points.ts';
import { KvmVcpuRequests } from '../src/kvm/requests.ts';
import { kvmSetUserMemoryRegion } from '../src/kvm/set-memory-region.ts';
import { createVm } from '../src/kvm/shm.ts';
import { KvmVcpuMmu, type MmioBus } from '../src/kvm/vcpu-mmu.ts';
import type { Row } from './bench.ts';
import { median, workMs } from './stats.ts';

const RAM = 0x8000_0000;
const PAGES = 8192;
const ROUNDS = 7;
const WARMUP = 2;
const noBus: MmioBus = { error: true, load: () => 0, store: () => {} };

function vcpu(armed: boolean) {
  const vm = createVm({ memBytes: 64 << 20 });
  const host = new Kvm(vm);
  const req = new KvmVcpuRequests(vm, 0);
  const mmu = new KvmVcpuMmu(new Kvm(vm, 0), req, noBus);
  mmu.attachHart({ tlbFlush() {} });
  vm.race[RACE_ARMED] = armed ? 1 : 0;
  const log = (on: boolean): void =>
    kvmSetUserMemoryRegion(host, { slot: 0, flags: on ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: RAM, memorySize: vm.config.memBytes });
  const write = (): number => workMs(() => {
    for (let i = 0; i < PAGES; i++) mmu.translate(RAM + i * 4096, ACC_WRITE, PRV_M, 0, 0);
  });
  write(); // back the pages
  /** One round: write-protect everything, then time PAGES fast faults. */
  const round = (): number => {
    req.vcpuExitGuest();
    log(false);
    log(true);
    req.vcpuEnterGuest();
    const before = vm.kvmVcpu[KVCPU_STAT_FAST_PF_FIXED]!;
    const ms = write();
    if (vm.kvmVcpu[KVCPU_STAT_FAST_PF_FIXED]! - before !== PAGES) throw new Error('race bench: the round did not take the fast path');
    return (ms * 1e6) / PAGES;
  };
  return { vm, round };
}

export function benchRacePoints(): Row[] {
  const plain = vcpu(false);
  const lab = vcpu(true);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = -WARMUP; r < ROUNDS; r++) {
    const x = plain.round();
    const y = lab.round();
    if (r >= 0) {
      a.push(x);
      b.push(y);
    }
  }
  const race = plain.vm.race;
  const vm = plain.vm;
  const n = 1_000_000;
  const checks: number[] = [];
  const empty: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    checks.push((workMs(() => {
      for (let i = 0; i < n; i++) {
        if (race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, i);
        if (race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, i);
        if (race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, i);
        if (race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, i);
        if (race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, i);
        sink += i;
      }
    }) * 1e6) / n);
    empty.push((workMs(() => {
      for (let i = 0; i < n; i++) sink += i;
    }) * 1e6) / n);
  }
  if (sink === -1) throw new Error('unreachable'); // keeps the loops' work observable
  const unarmed = median(a);
  const check = Math.max(0, median(checks) - median(empty));
  return [
    { name: 'race.fast_pf_ns.unarmed', value: unarmed, unit: 'ns', note: 'pause points compiled in, RACE_ARMED = 0 (every VM but the lab\'s)' },
    { name: 'race.fast_pf_ns.lab_vm', value: median(b), unit: 'ns', note: 'RACE_ARMED = 1, no lane: racePoint() called and returns' },
    { name: 'race.point_check_ns', value: check, unit: 'ns', note: `5 unarmed checks per fast fault (walk begin/end, before cmpxchg, before mark, entry): ${((100 * check) / unarmed).toFixed(2)}% of it` },
  ];
}
