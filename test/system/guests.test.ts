// The built-in guests on the real VM: real vCPU workers, the shadow MMU, SBI,
// devices. Each must print what it prints on QEMU's virt machine and exit
// through SBI SRST with success.
import { describe, expect, it } from 'vitest';
import { GUESTS, loadGuestSource } from '../../src/guests/index.ts';
import { EXITK_SHUTDOWN } from '../../src/kvm/vcpu-ctl.ts';
import { runSource } from './vm-harness.ts';

const CASES: [string, number][] = [
  ['hello', 1],
  ['hello-irq', 1],
  ['compute', 1],
  ['compute', 2],
  ['compute-sv32', 1],
  ['paging', 1],
  ['smp', 4],
];

describe('built-in guests on real vCPU workers', () => {
  for (const [name, vcpus] of CASES) {
    it(`${name} on ${vcpus} vCPU(s) prints its expected lines and shuts down cleanly`, async () => {
      const g = GUESTS.find((x) => x.name === name)!;
      const r = await runSource(await loadGuestSource(name), `${name}.S`, { vcpus, input: g.expect.input });
      const lines = r.output.split('\n');
      for (const want of g.expect.lines(vcpus)) expect(lines, `missing line: ${want}`).toContain(want);
      expect(r.exit.kind).toBe(EXITK_SHUTDOWN);
      expect(r.exit.code).toBe(0);
    });
  }

  it('smp: the AMO counter is exact across 4 vCPU workers, and every vCPU ran', async () => {
    const r = await runSource(await loadGuestSource('smp'), 'smp.S', { vcpus: 4 });
    expect(r.output).toContain('smp: counter = 400000, expected 400000');
    expect(r.output).toContain('PASS');
    for (const v of r.stats.vcpus) expect(v.instructions).toBeGreaterThan(100000 * 3);
  });

  it('the same counter with a plain load/add/store loses updates: the check above can fail', async () => {
    const src = (await loadGuestSource('smp')).replace(
      'amoadd.w zero, t1, (t0)',
      'lw t3, 0(t0)\n    add t3, t3, t1\n    sw t3, 0(t0)',
    );
    expect(src).not.toContain('amoadd.w zero, t1, (t0)');
    const r = await runSource(src, 'smp-racy.S', { vcpus: 4 });
    const m = /smp: counter = (\d+), expected 400000/.exec(r.output);
    expect(m, r.output).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(400000);
    expect(r.output).toContain('FAIL');
    expect(r.exit.code).toBe(1);
  });

  it('paging: Sv32 in the guest makes indirect shadow pages; bare mode only direct ones', async () => {
    const paging = await runSource(await loadGuestSource('paging'), 'paging.S');
    expect(paging.stats.shadow_pages.created).toBeGreaterThan(0);
    expect(paging.stats.emulated_pt_writes).toBeGreaterThan(0);
    expect(paging.stats.vcpus[0].faults.guest).toBeGreaterThanOrEqual(4); // 3 demand faults + 1 protection fault
    const bare = await runSource(await loadGuestSource('compute'), 'compute.S');
    expect(bare.stats.shadow_pages.indirect).toBe(0);
    expect(bare.stats.shadow_pages.direct).toBeGreaterThan(0);
  });
});
