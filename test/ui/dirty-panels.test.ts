// Pure logic behind the dirty-map, host-memory and MMU-explorer panels: the
// fade after a collection, the dirty history, the pre-copy loop's stop rules,
// reading gfns and host PTEs, counting shadow pages, and the cost of one heat
// map frame at 1 GiB (262,144 pages) with no allocation per frame.
import { describe, expect, it } from 'vitest';
import { cividisLut, packRgb } from '../../src/ui/cividis.ts';
import { DirtyHeat, HEAT_MAX } from '../../src/ui/dirty-heat.ts';
import { describeHistory, DirtyHistory, HISTORY_ROUNDS } from '../../src/ui/dirty-history.ts';
import { PrecopyLoop, transferMs } from '../../src/ui/dirty-migrate.ts';
import { countShadowPages, describeHostPte, hostPteState, KSM_PASS_LIMIT, parseGfn } from '../../src/ui/host-mmu-logic.ts';
import { KSM_MERGES_PER_PASS } from '../../src/kvm/host-bulk.ts';
import {
  HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, ROLE_DIRECT, ROLE_INVALID, SP_FLAG_IN_USE, SP_FLAGS, SP_META_WORDS,
  SP_ROLE,
} from '../../src/ui/shared-layout.ts';

const bitmapOf = (pages: number, set: number[]): Uint32Array => {
  const b = new Uint32Array(Math.ceil(pages / 32));
  for (const p of set) b[p >>> 5]! |= 1 << (p & 31);
  return b;
};

describe('fading after a collection', () => {
  it('collected pages go to full heat and fade to cold within the fade time', () => {
    const heat = new DirtyHeat(100);
    const live = new Uint32Array(new SharedArrayBuffer(16)); // no live bits: ring mode, or GET already cleared them
    heat.flash(bitmapOf(100, [3, 64, 99]));
    expect([heat.heat[3], heat.heat[64], heat.heat[99], heat.heat[4]]).toEqual([HEAT_MAX, HEAT_MAX, HEAT_MAX, 0]);
    // 16 ms frames, fading over 1500 ms: decay = round(16 * 255 / 1500) = 3 per frame.
    const decay = Math.round((16 * 255) / 1500);
    let frames = 0;
    while (heat.heat[3]! > 0 && frames < 1000) {
      heat.fold(live, decay);
      frames++;
    }
    expect(frames * 16).toBeGreaterThan(1000);
    expect(frames * 16).toBeLessThan(2000);
    expect(heat.heat[64]).toBe(0);
  });

  it('a page still dirty stays hot; a flash ignores bits past the slot', () => {
    const heat = new DirtyHeat(40);
    const live = new Uint32Array(new SharedArrayBuffer(8));
    live[0] = 1 << 5;
    heat.flash(bitmapOf(64, [5, 50]));
    heat.fold(live, 100);
    heat.fold(live, 100);
    expect(heat.heat[5]).toBe(HEAT_MAX);
    expect(heat.heat.length).toBe(40);
  });

  it('renders 262,144 pages into one pixel buffer', () => {
    const pages = 262_144;
    const heat = new DirtyHeat(pages);
    const live = new Uint32Array(new SharedArrayBuffer(pages / 8));
    const table = new Int32Array(pages);
    for (let i = 0; i < pages; i += 7) table[i] = (i << 12) | 3;
    for (let i = 0; i < live.length; i += 3) live[i] = 0x0f0f0f0f;
    const pixels = new Uint32Array(pages);
    const lut = cividisLut();
    const frame = () => {
      heat.fold(live, 3);
      heat.render(pixels, table, lut, packRgb(1, 2, 3), packRgb(4, 5, 6));
    };
    // Its speed is ui.heatmap_frame_ms.* of npm run bench (bench/ui-bench.ts), not a test's business.
    for (let i = 0; i < 3; i++) frame();
    expect(pixels[0]).toBe(lut[HEAT_MAX]);
  });
});

describe('DirtyHistory', () => {
  it('remembers the rounds that collected each page and counts them all', () => {
    const h = new DirtyHistory(100);
    expect(describeHistory(h.page(7))).toBe('no collection yet');
    h.record(bitmapOf(100, [7, 8]), 2, 'GET', 0);
    h.record(bitmapOf(100, [8]), 1, 'GET', 1);
    h.record(bitmapOf(100, [7]), 1, 'ring', 2);
    expect(h.page(7)).toEqual({ rounds: [1, 3], total: 2, last: 3, window: [1, 3] });
    expect(h.page(9).total).toBe(0);
    expect(describeHistory(h.page(7))).toBe('collected in rounds 1, 3 (of 1–3); 2 times in all');
    expect(describeHistory(h.page(9))).toBe('never collected (3 collections so far)');
    expect(h.recent(2).map((r) => r.label)).toEqual(['GET', 'ring']);
  });

  it('keeps the last HISTORY_ROUNDS bitmaps but counts every round', () => {
    const h = new DirtyHistory(32);
    for (let i = 0; i < HISTORY_ROUNDS + 10; i++) h.record(bitmapOf(32, [1]), 1, 'GET', i);
    const p = h.page(1);
    expect(p.total).toBe(HISTORY_ROUNDS + 10);
    expect(p.rounds).toHaveLength(HISTORY_ROUNDS);
    expect(p.rounds[0]).toBe(11);
    expect(p.window).toEqual([11, HISTORY_ROUNDS + 10]);
  });
});

describe('PrecopyLoop', () => {
  it('round 1 is the full copy; a round below the threshold is the stop-and-copy', () => {
    const loop = new PrecopyLoop({ maxRounds: 10, threshold: 50 });
    expect(loop.record(1000)).toBe(true); // full copy, never the last
    expect(loop.record(300)).toBe(true);
    expect(loop.record(49)).toBe(false);
    expect(loop.state).toBe('converged');
    expect(loop.rounds.map((r) => r.kind)).toEqual(['full', 'dirty', 'stop-and-copy']);
    expect(loop.totalPages).toBe(1349);
    expect(loop.summary()).toMatch(/^Converged: 1,349 pages sent in 3 rounds; the last 49/);
    expect(loop.record(1)).toBe(false);
  });

  it('stops at max rounds when the guest keeps dirtying pages', () => {
    const loop = new PrecopyLoop({ maxRounds: 3, threshold: 10 });
    expect([loop.record(0), loop.record(500), loop.record(500)]).toEqual([true, true, false]);
    expect(loop.state).toBe('max-rounds');
    expect(loop.summary()).toMatch(/^Did not converge in 3 rounds/);
    expect(() => new PrecopyLoop({ maxRounds: 1, threshold: 0 })).toThrow(/max rounds/);
  });

  it('a round lasts its pages over the link, at least the minimum', () => {
    expect(transferMs(256, 1)).toBeCloseTo(1000, 5); // 1 MiB at 1 MiB/s
    expect(transferMs(0, 256)).toBe(20);
  });
});

describe('host-memory and explorer helpers', () => {
  it('reads gfns as hex or decimal and host PTEs by state', () => {
    expect(parseGfn(' 0x80010 ')).toBe(0x80010);
    expect(parseGfn('42')).toBe(42);
    expect(parseGfn('0xzz')).toBeNaN();
    expect(parseGfn('-1')).toBeNaN();
    const refs = () => 2;
    expect(hostPteState((5 << 12) | HOST_PTE_PRESENT | HOST_PTE_WRITABLE)).toBe('resident');
    expect(describeHostPte((5 << 12) | HOST_PTE_PRESENT, refs)).toBe('KSM-shared, read-only: host pfn 0x5 (refcount 2)');
    expect(describeHostPte((9 << 12) | HOST_PTE_SWAPPED, refs)).toBe('swapped out to swap slot 9');
    expect(hostPteState(0)).toBe('unbacked');
  });

  it('counts live direct and indirect shadow pages, skipping free and invalid ones', () => {
    const meta = new Int32Array(new SharedArrayBuffer(5 * SP_META_WORDS * 4));
    const page = (i: number, role: number, inUse = true) => {
      meta[i * SP_META_WORDS + SP_ROLE] = role;
      meta[i * SP_META_WORDS + SP_FLAGS] = inUse ? SP_FLAG_IN_USE : 0;
    };
    page(0, 2 | ROLE_DIRECT);
    page(1, 1);
    page(2, 1);
    page(3, 1 | ROLE_INVALID);
    page(4, 1 | ROLE_DIRECT, false);
    expect(countShadowPages(meta)).toEqual({ direct: 1, indirect: 2 });
  });

  it("the host-memory panel's KSM pass limit is host-bulk.ts's", () => {
    expect(KSM_PASS_LIMIT).toBe(KSM_MERGES_PER_PASS);
  });
});
