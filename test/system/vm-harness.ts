// Run a program on the real VMM with real vCPU worker threads, as the CLI
// does, and collect what it printed and how it ended.
import { Vmm, type ExitInfo } from '../../src/kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { assemble, type IncludeResolver } from '../../src/asm/assembler.ts';
import { writeElf } from '../../src/asm/elf.ts';
import { guestInclude } from '../../src/guests/index.ts';
import type { VmStats } from '../../src/kvm/stats.ts';

export interface RunResult {
  exit: ExitInfo;
  output: string;
  stats: VmStats;
}

export interface RunOptions {
  vcpus?: number;
  memMiB?: number;
  input?: string;
  timeoutMs?: number;
  /** Reads `.include`d files (default: the built-in guest library). */
  include?: IncludeResolver;
  /** Called once the guest runs, with the VMM (to poke it while it runs). */
  during?: (vmm: Vmm) => Promise<void>;
  /** Called once the guest has exited, before the VM is destroyed (to read guest memory). */
  after?: (vmm: Vmm) => void;
}

export async function runSource(source: string, name: string, o: RunOptions = {}): Promise<RunResult> {
  return runElf(writeElf(assemble(source, name, { include: o.include ?? guestInclude })), name, o);
}

export async function runElf(elf: Uint8Array, name: string, o: RunOptions = {}): Promise<RunResult> {
  const vmm = await Vmm.create({ memBytes: (o.memMiB ?? 64) << 20, vcpus: o.vcpus ?? 1 }, spawnVcpuNode);
  const dec = new TextDecoder();
  let output = '';
  try {
    vmm.loadElf(elf, name);
    const t0 = performance.now();
    vmm.run();
    if (o.input) vmm.writeConsole(new TextEncoder().encode(o.input));
    if (o.during) await o.during(vmm);
    const deadline = t0 + (o.timeoutMs ?? 30_000);
    while (!vmm.exitInfo()) {
      output += dec.decode(vmm.readConsole(), { stream: true });
      if (performance.now() > deadline) {
        vmm.pause();
        throw new Error(`${name}: no exit within ${o.timeoutMs ?? 30_000} ms; output so far:\n${output}`);
      }
      await vmm.waitForExit(10);
    }
    output += dec.decode(vmm.readConsole());
    o.after?.(vmm);
    return { exit: vmm.exitInfo()!, output: output.replace(/\r/g, ''), stats: vmm.stats((performance.now() - t0) / 1000) };
  } finally {
    await vmm.destroy();
  }
}
