// `webkvm explain`: run a program for a while, stop it, and print how one
// guest virtual address translates on one vCPU: the guest's Sv32 walk (or
// "satp = bare"), the shadow page table walk with each shadow page's role and
// each SPTE's bits, and the host page (src/kvm/mmu-explain.ts, read-only).
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { createLoadedVm, parseSets } from './observe.ts';
import { readProgram } from './program.ts';
import { describePage, explainAddress, formatExplanation, formatPageDescription } from '../kvm/mmu-explain.ts';
import { countShadowPages } from '../kvm/fields.ts';

const OPTIONS: OptionSpecs = {
  at: { type: 'string', arg: 'GVA', help: 'the guest virtual address: hex, decimal, or a symbol of the program' },
  page: { type: 'string', arg: 'GFN', help: "also print a page's host state and the SPTEs in its rmap (as a heat-map click)" },
  'after-insns': { type: 'int', min: 0, arg: 'N', help: 'run until a vCPU retired N instructions first (default 200000; 0: do not run)' },
  vcpu: { type: 'int', min: 0, max: 7, arg: 'N', help: 'whose translation (default 0)' },
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'number of vCPUs (default 1)' },
  mem: { type: 'int', min: 1, max: 1024, arg: 'MiB', help: 'guest RAM in MiB (default 64)' },
  set: { type: 'string', arg: 'SYM=V,...', help: 'patch guest words before it starts (e.g. max_iterations=0)' },
  timeout: { type: 'number', min: 0.01, arg: 'S', help: 'stop running after S seconds at most (default 10)' },
};

export const EXPLAIN_HELP = `usage: webkvm explain <prog.elf|prog.S|guest> --at GVA [--page GFN] [options]

Runs the program, stops it, and prints the walk gva -> guest PTEs -> SPTEs ->
host pfn for one vCPU, with the counts of direct and indirect shadow pages.

options:
${formatOptions(OPTIONS)}

example:
  webkvm explain paging-dirty --vcpus 2 --at 0x80000000 --after-insns 500000
  webkvm explain dirty --page 0x80000`;

function parseAddress(text: string, symbols: Map<string, number>): number {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]{1,8}$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t) && Number(t) < 2 ** 32) return Number(t);
  const sym = symbols.get(text.trim());
  if (sym !== undefined) return sym >>> 0;
  throw new UsageError(`--at '${text}' is not a 32-bit address or a symbol of the program`);
}

export async function explainCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (positional.length !== 1) throw new UsageError('explain takes one program: webkvm explain dirty --at 0x80000000');
  if (options.at === undefined && options.page === undefined) throw new UsageError('explain needs --at GVA (or --page GFN)');
  const vcpus = (options.vcpus as number | undefined) ?? 1;
  const vcpu = (options.vcpu as number | undefined) ?? 0;
  if (vcpu >= vcpus) throw new UsageError(`--vcpu ${vcpu}: the VM has ${vcpus} vCPU${vcpus === 1 ? '' : 's'} (0..${vcpus - 1})`);
  const insns = (options['after-insns'] as number | undefined) ?? 200_000;
  const prog = await readProgram(positional[0]!);
  const { vmm, symbols } = await createLoadedVm(prog, { vcpus, memMiB: (options.mem as number | undefined) ?? 64, sets: parseSets(options.set as string | undefined) });
  try {
    const gva = options.at === undefined ? -1 : parseAddress(options.at as string, symbols);
    const gfn = options.page === undefined ? -1 : parseAddress(options.page as string, symbols);
    if (insns > 0) {
      vmm.setLimits({ maxInsns: insns });
      vmm.run();
      const end = performance.now() + ((options.timeout as number | undefined) ?? 10) * 1000;
      while (!vmm.exitInfo() && performance.now() < end) await vmm.waitForExit(20);
      vmm.pause();
    }
    if (gva >= 0) {
      const regs = vmm.getRegs(vcpu);
      const e = explainAddress(vmm.vm, vcpu, gva, regs.csrs['satp'] ?? 0, regs.priv);
      process.stdout.write(formatExplanation(e).join('\n') + '\n');
    }
    if (gfn >= 0) {
      vmm.kvm.mmuLock.lock(); // the rmap changes under mmu_lock: read it exactly
      try {
        process.stdout.write(formatPageDescription(describePage(vmm.vm, gfn)).join('\n') + '\n');
      } finally {
        vmm.kvm.mmuLock.unlock();
      }
    }
    const sp = countShadowPages(vmm.vm.spMeta);
    process.stdout.write(`shadow pages in use: ${sp.direct} direct, ${sp.indirect} indirect\n`);
    return EXIT_OK;
  } finally {
    await vmm.destroy();
  }
}
