// `webkvm torture`: dirty_log_test against the real workers. The dirty guest
// writes iteration numbers on N vCPUs while this process collects the dirty
// log (bitmap, clear or ring mode) and checks every collection against guest
// memory (src/kvm/dirty-check.ts). Each collection is one check: it passes
// when no written page is missing from the log. `--unsafe NAME` switches one
// protection off to show the loss it prevents.
import { formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { assemble } from '../asm/assembler.ts';
import { writeElf } from '../asm/elf.ts';
import { loadGuestSource } from '../guests/index.ts';
import { Vmm } from '../kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { DirtyCollector, DIRTY_LOG_MODES, type DirtyLogMode } from '../kvm/dirty-collector.ts';
import { DirtyLogChecker, type CheckedPage } from '../kvm/dirty-check.ts';
import { kvmReadGuest } from '../kvm/memslot.ts';
import { kvmSetUnsafe, unsafeBitsByName, UNSAFE_NAMES } from '../kvm/unsafe.ts';
import { KvmError } from '../kvm/errors.ts';

const OPTIONS: OptionSpecs = {
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'vCPUs writing (default 4)' },
  seconds: { type: 'number', min: 0.1, max: 3600, arg: 'S', help: 'how long to run (default 5)' },
  mode: { type: 'string', arg: 'M', help: `collection: ${DIRTY_LOG_MODES.join(', ')} (default bitmap)` },
  pages: { type: 'int', min: 1, max: 1024, arg: 'N', help: 'pages each vCPU writes (default 64)' },
  interval: { type: 'number', min: 0, max: 1000, arg: 'MS', help: 'pause between collections (default 2)' },
  unsafe: { type: 'string', arg: 'NAME', help: `switch one protection off: ${Object.keys(UNSAFE_NAMES).join(', ')}` },
};

/** Lost pages named one per line; the rest are counted. */
const MAX_NAMED = 20;

export const TORTURE_HELP = `usage: webkvm torture [options]\n\noptions:\n${formatOptions(OPTIONS)}`;

function tag(vmm: Vmm, gpa: number): number {
  const b = kvmReadGuest(vmm.vm, gpa, 4);
  return b ? new DataView(b.buffer).getInt32(0, true) : 0;
}

export async function tortureCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, OPTIONS);
  const vcpus = (options.vcpus as number | undefined) ?? 4;
  const seconds = (options.seconds as number | undefined) ?? 5;
  const pages = (options.pages as number | undefined) ?? 64;
  const interval = (options.interval as number | undefined) ?? 2;
  const mode = ((options.mode as string | undefined) ?? 'bitmap') as DirtyLogMode;
  if (!DIRTY_LOG_MODES.includes(mode)) throw new KvmError('EINVAL', `--mode must be one of ${DIRTY_LOG_MODES.join(', ')}, got '${mode}'`);
  const unsafe = options.unsafe === undefined ? 0 : unsafeBitsByName(options.unsafe as string);

  const src = (await loadGuestSource('dirty'))
    .replace(/(max_iterations:\s*\.word\s+)\d+/, '$10')
    .replace(/(pages_per_vcpu:\s*\.word\s+)\d+/, `$1${pages}`);
  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    const prog = vmm.loadElf(writeElf(assemble(src, 'dirty.S')), 'dirty.S');
    kvmSetUnsafe(vmm.vm, unsafe);
    const collector = new DirtyCollector(vmm, mode);
    vmm.run();
    const checked = await regionPages(vmm, prog.symbols.get('region_base')!, vcpus, pages);
    const checker = new DirtyLogChecker(checked, (gpa) => tag(vmm, gpa));
    process.stdout.write(`torture: ${vcpus} vCPUs x ${pages} pages, mode ${mode}${unsafe ? `, UNSAFE ${options.unsafe}` : ''}, ${seconds} s\n`);
    let passed = 0;
    let failed = 0;
    let named = 0;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end && !vmm.exitInfo()) {
      const r = checker.collect(collector.collect());
      if (r.lost.length === 0) passed++;
      else {
        failed++;
        for (const p of r.lost) {
          if (named++ < MAX_NAMED) process.stdout.write(`LOST gfn 0x${(p.gpa >>> 12).toString(16)} (gpa 0x${p.gpa.toString(16)}): written, never in the dirty log\n`);
        }
      }
      await new Promise((res) => setTimeout(res, interval));
    }
    vmm.pause();
    const st = vmm.stats(seconds);
    const fast = st.vcpus.reduce((a, v) => a + v.faults.fast_fixed, 0);
    process.stdout.write(`torture: ${checker.totalReported} dirty pages collected, ${fast} fast page faults, ` +
      `${st.remote_tlb_flushes.by_cause['dirty log']} dirty-log TLB flushes\n`);
    if (named > MAX_NAMED) process.stdout.write(`... and ${named - MAX_NAMED} more lost pages\n`);
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    return failed === 0 ? EXIT_OK : 1;
  } finally {
    await vmm.destroy();
  }
}

/** Wait for every hart to publish its region, then list the pages to check. */
async function regionPages(vmm: Vmm, regionBase: number, vcpus: number, pages: number): Promise<CheckedPage[]> {
  const base = (h: number) => tag(vmm, regionBase + 4 * h) >>> 0;
  const t0 = Date.now();
  while (Array.from({ length: vcpus }, (_, h) => base(h)).includes(0)) {
    if (Date.now() - t0 > 10_000) throw new KvmError('EBUSY', 'torture: the dirty guest did not start its vCPUs within 10 s');
    await vmm.waitForExit(5);
  }
  const ram = vmm.vm.config.ramBase >>> 0;
  const out: CheckedPage[] = [];
  for (let h = 0; h < vcpus; h++) {
    for (let i = 0; i < pages; i++) out.push({ gpa: base(h) + 4096 * i, bit: (base(h) + 4096 * i - ram) >>> 12 });
  }
  return out;
}
