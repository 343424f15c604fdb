// The dirty-logging workloads (dirty, paging-dirty) on real vCPU workers:
// each prints its summary and powers off cleanly, and afterwards guest
// memory holds what the header of the .S file promises the host-side
// checker: every page of hart h's region (found through the exported
// region_base / region_pages words) tagged with iterations_done[h].
import { describe, expect, it } from 'vitest';
import { assemble, type IncludeResolver } from '../../src/asm/assembler.ts';
import { GUESTS, guestInclude, loadGuestSource } from '../../src/guests/index.ts';
import { kvmReadGuest } from '../../src/kvm/memslot.ts';
import { EXITK_SHUTDOWN } from '../../src/kvm/vcpu-ctl.ts';
import type { Vmm } from '../../src/kvm/vmm.ts';
import { runSource } from './vm-harness.ts';

const MAX_HARTS = 8;

/** The region of each hart and the first word of each of its pages, read from guest memory. */
interface Region {
  base: number;
  pages: number;
  done: number;
  firstWords: number[];
}

function words(vmm: Vmm, gpa: number, n: number): number[] {
  const b = kvmReadGuest(vmm.vm, gpa, 4 * n);
  if (!b) throw new Error(`guest memory at 0x${gpa.toString(16)} is not RAM`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: n }, (_, i) => v.getUint32(4 * i, true));
}

function readRegions(vmm: Vmm, sym: (name: string) => number, vcpus: number): Region[] {
  const base = words(vmm, sym('region_base'), MAX_HARTS);
  const pages = words(vmm, sym('region_pages'), MAX_HARTS);
  const done = words(vmm, sym('iterations_done'), MAX_HARTS);
  return Array.from({ length: vcpus }, (_, h) => ({
    base: base[h]!,
    pages: pages[h]!,
    done: done[h]!,
    firstWords: Array.from({ length: pages[h]! }, (_, i) => words(vmm, base[h]! + 4096 * i, 1)[0]!),
  }));
}

/** Patch `name: .word N` in the source. */
function patchWord(src: string, name: string, value: number): string {
  const re = new RegExp(`^(${name}:[ \\t]*\\.word[ \\t]+)\\d+`, 'm');
  expect(re.test(src), `no "${name}: .word" line`).toBe(true);
  return src.replace(re, `$1${value}`);
}

async function runDirty(name: string, vcpus: number, src?: string, include: IncludeResolver = guestInclude) {
  const source = src ?? (await loadGuestSource(name));
  const syms = assemble(source, `${name}.S`, { include }).symbols;
  const sym = (s: string): number => {
    const v = syms.get(s);
    if (!v?.global) throw new Error(`${name}: no global symbol ${s}`);
    return v.value;
  };
  let regions: Region[] = [];
  const r = await runSource(source, `${name}.S`, { vcpus, include, after: (vmm) => (regions = readRegions(vmm, sym, vcpus)) });
  return { ...r, regions };
}

describe('dirty-logging guests on real vCPU workers', () => {
  for (const name of ['dirty', 'paging-dirty']) {
    for (const vcpus of [1, 4]) {
      it(`${name} on ${vcpus} vCPU(s): summary, clean shutdown, every page holds its hart's last iteration`, async () => {
        const g = GUESTS.find((x) => x.name === name)!;
        const r = await runDirty(name, vcpus);
        const lines = r.output.split('\n');
        for (const want of g.expect.lines(vcpus)) expect(lines, `missing line: ${want}`).toContain(want);
        expect(r.exit.kind).toBe(EXITK_SHUTDOWN);
        expect(r.exit.code).toBe(0);

        expect(r.regions).toHaveLength(vcpus);
        const spans: [number, number][] = [];
        for (const [h, reg] of r.regions.entries()) {
          expect(reg.base % 4096, `hart ${h} region base`).toBe(0);
          expect(reg.base).toBeGreaterThanOrEqual(0x8000_0000);
          expect(reg.pages).toBe(256);
          expect(reg.done).toBe(3);
          const bad = reg.firstWords.flatMap((w, i) => (w === 3 ? [] : [`page ${i}: ${w}`]));
          expect(bad, `hart ${h}`).toEqual([]);
          spans.push([reg.base, reg.base + reg.pages * 4096]);
        }
        spans.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
        if (name === 'paging-dirty') {
          expect(r.stats.shadow_pages.indirect).toBeGreaterThan(0);
          expect(r.stats.shadow_pages.direct).toBeGreaterThan(0);
        }
      });
    }
  }

  it('the page check can fail: with a page skipped, the memory check above sees a stale page', async () => {
    // Sequential pass that skips page 5 of every region: it keeps 0.  The
    // pass lives in the library file dirty.S includes.
    const skipPage5 = (text: string): string => {
      const out = text.replace(
        '    sw      s3, 0(t0)\n    li      t2, 4096\n    add     t0, t0, t2\n    addi    t1, t1, -1',
        '    addi    t2, t1, -251\n    beqz    t2, 9f\n    sw      s3, 0(t0)\n9:\n    li      t2, 4096\n    add     t0, t0, t2\n    addi    t1, t1, -1',
      );
      expect(out).not.toBe(text);
      return out;
    };
    const include: IncludeResolver = (path, from) => {
      const f = guestInclude(path, from);
      return f && path === 'lib/dirty-core.S' ? { ...f, text: skipPage5(f.text) } : f;
    };
    const r = await runDirty('dirty', 2, undefined, include);
    expect(r.output).toContain('FAIL');
    expect(r.exit.code).toBe(1);
    for (const reg of r.regions) expect(reg.firstWords[5]).toBe(0);
  });

  it('patched parameters: pattern random, more iterations, a smaller region', async () => {
    let src = await loadGuestSource('paging-dirty');
    src = patchWord(patchWord(patchWord(src, 'pattern', 1), 'max_iterations', 7), 'pages_per_vcpu', 64);
    const r = await runDirty('paging-dirty', 4, src);
    expect(r.output).toContain('paging-dirty: 4 vCPUs, 64 pages each, 7 iterations, pattern random');
    expect(r.output).toContain("paging-dirty: every page checked against its hart's iterations_done, PASS");
    expect(r.exit.code).toBe(0);
    for (const reg of r.regions) {
      expect(reg.done).toBe(7);
      expect(reg.pages).toBe(64);
      for (const w of reg.firstWords) expect(w).toBeLessThanOrEqual(7);
      expect(reg.firstWords.some((w) => w === 7)).toBe(true);
    }
  });

  it('bad parameters are refused with a message and SRST reason 1', async () => {
    const src = patchWord(await loadGuestSource('paging-dirty'), 'pages_per_vcpu', 3);
    const r = await runSource(src, 'paging-dirty.S', { vcpus: 1 });
    expect(r.output).toContain('paging-dirty: bad parameters: pages_per_vcpu 3, pattern 0');
    expect(r.exit.code).toBe(1);
  });
});
