// Dirty logging against real vCPU workers (dirty_log_test): the dirty guest
// writes on 4 vCPUs while the VMM collects with KVM_GET_DIRTY_LOG, and the
// checker compares the log with guest memory. With the protection on, no
// written page is ever missing; with the flush after write-protect switched
// off, the checker finds lost pages.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { writeElf } from '../../src/asm/elf.ts';
import { guestInclude, loadGuestSource } from '../../src/guests/index.ts';
import { kvmReadGuest } from '../../src/kvm/memslot.ts';
import { DirtyLogChecker, type CheckedPage } from '../../src/kvm/dirty-check.ts';
import { DirtyCollector, type DirtyLogMode } from '../../src/kvm/dirty-collector.ts';
import { kvmSetUnsafe, UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../src/kvm/unsafe.ts';
import { Vmm } from '../../src/kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';

const PAGES = 64;
/** Collections made while the guest writes, with the protection on. */
const ROUNDS = 12;

function word(vmm: Vmm, gpa: number): number {
  const b = kvmReadGuest(vmm.vm, gpa, 4)!;
  return new DataView(b.buffer).getInt32(0, true);
}

/** dirty.S with its parameters patched in the source (.word defaults). */
async function dirtySource(iterations: number): Promise<string> {
  const src = await loadGuestSource('dirty');
  return src
    .replace(/(max_iterations:\s*\.word\s+)\d+/, `$1${iterations}`)
    .replace(/(pages_per_vcpu:\s*\.word\s+)\d+/, `$1${PAGES}`);
}

async function collectWhileRunning(unsafe: number, mode: DirtyLogMode = 'bitmap'): Promise<{ checker: DirtyLogChecker; rounds: number; fastFixes: number }> {
  const vcpus = 4;
  const vmm = await Vmm.create({ memBytes: 32 << 20, vcpus }, spawnVcpuNode);
  try {
    // The guest writes for ever (max_iterations 0): the number of collections made while it
    // writes depends on this loop, not on how fast a loaded machine lets the guest finish.
    const src = await dirtySource(0);
    expect(src).toMatch(new RegExp(`pages_per_vcpu:\\s*\\.word\\s+${PAGES}`));
    const prog = vmm.loadElf(writeElf(assemble(src, 'dirty.S', { include: guestInclude })), 'dirty.S');
    kvmSetUnsafe(vmm.vm, unsafe);
    const collector = new DirtyCollector(vmm, mode);
    vmm.run();
    // Wait until every hart has published its region.
    const sym = (n: string) => prog.symbols.get(n)!;
    const base = (h: number) => word(vmm, sym('region_base') + 4 * h) >>> 0;
    const t0 = Date.now();
    while ([0, 1, 2, 3].some((h) => base(h) === 0) && Date.now() - t0 < 10_000) await vmm.waitForExit(5);
    expect([0, 1, 2, 3].filter((h) => base(h) === 0), 'harts that never published their region').toEqual([]);
    const ramBase = 0x8000_0000;
    const pages: CheckedPage[] = [];
    for (let h = 0; h < vcpus; h++) {
      for (let i = 0; i < PAGES; i++) {
        const gpa = base(h) + 4096 * i;
        pages.push({ gpa, bit: (gpa - ramBase) >>> 12 });
      }
    }
    const checker = new DirtyLogChecker(pages, (gpa) => word(vmm, gpa));
    let rounds = 0;
    const deadline = Date.now() + (unsafe ? 8_000 : 30_000);
    while (!vmm.exitInfo() && Date.now() < deadline && (unsafe || rounds < ROUNDS)) {
      checker.collect(collector.collect());
      rounds++;
      if (unsafe && checker.lostPages.length > 0) break;
      await vmm.waitForExit(3);
    }
    vmm.pause(); // the vCPUs stop; the final collections see every write they made
    checker.collect(collector.collect()); // the final collection
    checker.collect(collector.collect());
    const fastFixes = vmm.stats(1).vcpus.reduce((a, v) => a + v.faults.fast_fixed, 0);
    return { checker, rounds: rounds + 2, fastFixes };
  } finally {
    await vmm.destroy();
  }
}

describe('dirty logging on real vCPU workers', () => {
  it.each(['bitmap', 'clear', 'ring'] as const)('%s mode while 4 vCPUs write: no written page is ever missing from the log (I1)', async (mode) => {
    const { checker, rounds, fastFixes } = await collectWhileRunning(0, mode);
    expect(rounds).toBeGreaterThan(5);
    expect(checker.totalReported).toBeGreaterThan(PAGES);
    expect(fastFixes).toBeGreaterThan(0); // writes after GET went through the lock-free fast path
    expect(checker.lostPages).toEqual([]);
  });

  it('with the TLB flush after write-protect switched off, the checker finds lost pages', async () => {
    const { checker } = await collectWhileRunning(UNSAFE_NO_FLUSH_AFTER_WRPROT);
    expect(checker.lostPages.length).toBeGreaterThan(0);
  });
});
