// Vmm life-cycle edges on real workers: a bad image changes nothing (not even
// a running guest), a step that ends the guest leaves it exited, a vCPU
// worker that dies makes the next command fail at once with its reason, and a
// VM whose threads cannot start leaves no thread behind.
import { afterEach, describe, expect, it } from 'vitest';
import { Vmm, type VcpuSpawner } from '../../src/kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { writeElf } from '../../src/asm/elf.ts';
import { VM_EXITED, VM_RUNNING, VM_STATE } from '../../src/kvm/vcpu-ctl.ts';

const vmms: Vmm[] = [];
afterEach(async () => {
  await Promise.all(vmms.splice(0).map((v) => v.destroy()));
});

async function make(vcpus = 1): Promise<Vmm> {
  const v = await Vmm.create({ memBytes: 4 << 20, vcpus }, spawnVcpuNode);
  vmms.push(v);
  return v;
}

const elf = (src: string): Uint8Array => writeElf(assemble(src, 't.S'));
const LOOP = elf('.globl _start\n_start:\n  addi t0, t0, 1\n  j _start\n');
// An M-mode program that writes tohost = 1 (HTIF exit code 0) at once.
const EXIT_NOW = elf(`
.globl _start
_start:
  li t0, 1
  la t1, tohost
  sw t0, 0(t1)
1: j 1b
.data
.balign 8
.globl tohost
tohost: .word 0, 0
.globl fromhost
fromhost: .word 0, 0
`);

describe('Vmm life cycle', () => {
  it('a bad image is refused before the running guest is touched', async () => {
    const vmm = await make();
    vmm.loadElf(LOOP, 'loop.S');
    vmm.run();
    const outside = { entry: 0x1000, segments: [{ paddr: 0x1000, data: new Uint8Array(16), memsz: 16 }], symbols: new Map<string, number>() };
    expect(() => vmm.loadProgramImage(outside, 'bad.elf')).toThrow(/bad\.elf/);
    expect(Atomics.load(vmm.vm.view('vm'), VM_STATE)).toBe(VM_RUNNING);
    // Still executing: the retired-instruction count keeps growing.
    const n0 = vmm.stats(1).vcpus[0]!.instructions;
    await new Promise((r) => setTimeout(r, 100));
    expect(vmm.stats(1).vcpus[0]!.instructions).toBeGreaterThan(n0);
  });

  it('a step that ends the guest leaves the VM exited, not paused', async () => {
    const vmm = await make();
    vmm.loadElf(EXIT_NOW, 'exit.S');
    for (let i = 0; i < 8 && Atomics.load(vmm.vm.view('vm'), VM_STATE) !== VM_EXITED; i++) vmm.step(0);
    expect(Atomics.load(vmm.vm.view('vm'), VM_STATE)).toBe(VM_EXITED);
    expect(vmm.exitInfo()?.code).toBe(0);
  });

  it('kvm_stat reads take kvm_lock and guest-clock writes take the TSC write lock', async () => {
    const vmm = await make();
    vmm.loadElf(LOOP, 'loop.S');
    vmm.run();
    vmm.pause();
    vmm.stats(1);
    const s = vmm.stats(1);
    expect(s.locks['kvm_lock']!.acquired).toBe(2); // this read and the one before
    expect(s.locks['tsc_write_lock']!.acquired).toBeGreaterThanOrEqual(2); // resume + pause
  });

  it('a VM whose vCPU threads never answer is torn down, threads included', async () => {
    let terminated = 0;
    const silent: VcpuSpawner = (_init, onError) => {
      setTimeout(() => onError('refused to start (test)'), 10);
      return { terminate: async () => void terminated++ };
    };
    await expect(Vmm.create({ memBytes: 4 << 20, vcpus: 2 }, silent)).rejects.toMatchObject({ code: 'EFAULT' });
    expect(terminated).toBe(2);
  });
});
