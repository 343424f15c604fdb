// The race lab's pure logic against a hand-made run (race-fixture.ts): the
// link fragment (strict parsing, round trip), step navigation bounds, the
// snapshot diff that drives the "changed" markers, the text the panel shows,
// and free play's stops.
import { describe, expect, it } from 'vitest';
import { clampLinkStep, echo, formatRaceFragment, parseRaceFragment } from '../../src/ui/race-fragment.ts';
import { playInterval, RaceCursor } from '../../src/ui/race-nav.ts';
import { diffSnapshots } from '../../src/ui/race-diff.ts';
import {
  diffSummary, dirtyText, laneName, runLanes, spteChangeText, spteFlagWords, spteText, tlbText, verdictView,
} from '../../src/ui/race-view.ts';
import { nextStop, pausePoints, pointKey, previousStop } from '../../src/ui/race-freeplay.ts';
import { INFO, RUN, SAFE_RUN } from './race-fixture.ts';

const NAMES = ['lost-dirty-bit', 'aba-indirect'];

describe('race link fragment', () => {
  it('round-trips name, unsafe and step', () => {
    for (const link of [{ name: 'lost-dirty-bit', unsafe: true, step: 7 }, { name: 'aba-indirect', unsafe: false, step: 0 }]) {
      const frag = formatRaceFragment(link);
      expect(parseRaceFragment(frag, NAMES)).toEqual({ kind: 'link', link, warnings: [] });
    }
    expect(formatRaceFragment({ name: 'lost-dirty-bit', unsafe: true, step: 7 })).toBe('#race=lost-dirty-bit&unsafe=1&step=7');
  });

  it('leaves other fragments alone', () => {
    for (const h of ['', '#', '#console', '#racer=x', 'race=lost-dirty-bit']) expect(parseRaceFragment(h, NAMES)).toEqual({ kind: 'none' });
  });

  it('defaults unsafe off and step 0', () => {
    expect(parseRaceFragment('#race=aba-indirect', NAMES)).toEqual({ kind: 'link', link: { name: 'aba-indirect', unsafe: false, step: 0 }, warnings: [] });
  });

  it('refuses unknown or malformed names, with a message', () => {
    const unknown = parseRaceFragment('#race=nope&step=2', NAMES);
    expect(unknown).toEqual({ kind: 'error', message: expect.stringContaining('unknown scenario "nope"') });
    const script = parseRaceFragment('#race=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', NAMES);
    expect(script.kind).toBe('error');
    expect(parseRaceFragment('#race=', NAMES).kind).toBe('error');
    expect(parseRaceFragment('#race=%E0%A4%A', NAMES).kind).toBe('error'); // bad %-encoding
    expect(parseRaceFragment('#race=a&race=b', null)).toEqual({ kind: 'error', message: expect.stringContaining('twice') });
    // Before the list is known only the form is checked.
    expect(parseRaceFragment('#race=nope', null).kind).toBe('link');
  });

  it('ignores bad numbers and unknown keys with warnings, keeping the rest', () => {
    for (const bad of ['-1', '1e3', '0x7', '7.5', ' 7', '', 'seven', '9999999']) {
      const r = parseRaceFragment(`#race=lost-dirty-bit&unsafe=1&step=${encodeURIComponent(bad)}`, NAMES);
      expect(r.kind).toBe('link');
      if (r.kind !== 'link') continue;
      expect(r.link).toEqual({ name: 'lost-dirty-bit', unsafe: true, step: 0 });
      expect(r.warnings).toEqual([expect.stringContaining('Ignored step=')]);
    }
    const r = parseRaceFragment('#race=lost-dirty-bit&unsafe=yes&x=1&step=3', NAMES);
    expect(r).toEqual({
      kind: 'link', link: { name: 'lost-dirty-bit', unsafe: false, step: 3 },
      warnings: [expect.stringContaining('unknown link parameter "x"'), expect.stringContaining('Ignored unsafe="yes"')],
    });
  });

  it('echoes fragment data short and without control characters', () => {
    expect(echo('a\u0000b\nc')).toBe('"abc"');
    expect(echo('x'.repeat(200)).length).toBeLessThanOrEqual(42);
  });

  it('clamps a link step to the run', () => {
    expect(clampLinkStep(2, 4)).toEqual({ step: 2, warning: null });
    const c = clampLinkStep(9, 4);
    expect(c.step).toBe(3);
    expect(c.warning).toMatch(/step 9.*steps 0 to 3/);
  });
});

describe('race step navigation', () => {
  it('stays within 0..count-1', () => {
    const c = new RaceCursor();
    expect(c.next()).toBe(false);
    expect(c.atEnd).toBe(true);
    c.load(4);
    expect(c.step).toBe(0);
    expect(c.back()).toBe(false);
    expect(c.atStart).toBe(true);
    expect(c.next()).toBe(true);
    expect(c.next()).toBe(true);
    expect(c.next()).toBe(true);
    expect(c.atEnd).toBe(true);
    expect(c.next()).toBe(false);
    expect(c.step).toBe(3);
    expect(c.goTo(-5)).toBe(true);
    expect(c.step).toBe(0);
    expect(c.goTo(99)).toBe(true);
    expect(c.step).toBe(3);
    expect(c.goTo(NaN)).toBe(false);
    expect(c.reset()).toBe(true);
    expect(c.step).toBe(0);
  });

  it('maps the lane view keys', () => {
    const c = new RaceCursor(4);
    expect(c.key('ArrowDown')).toBe(true);
    expect(c.key('ArrowRight')).toBe(true);
    expect(c.step).toBe(2);
    expect(c.key('ArrowUp')).toBe(true);
    expect(c.step).toBe(1);
    expect(c.key('End')).toBe(true);
    expect(c.step).toBe(3);
    expect(c.key('Home')).toBe(true);
    expect(c.step).toBe(0);
    expect(c.key('ArrowLeft')).toBe(false);
    expect(c.key('a')).toBeNull();
  });

  it('plays slower under reduced motion', () => {
    expect(playInterval(true)).toBeGreaterThan(playInterval(false));
  });
});

describe('race snapshot diff', () => {
  const snaps = RUN.steps.map((s) => s.snapshot);

  it('marks everything new on the first step', () => {
    const d = diffSnapshots(null, snaps[0]);
    expect(d.sptes.map((x) => x.change)).toEqual(['new']);
    expect(d.notes).toEqual([{ key: 'vcpu0.mode', value: 'IN_GUEST_MODE', change: 'new' }]);
    expect(d.any).toBe(true);
  });

  it('names gained and lost flags, flipped dirty fields and new TLB entries', () => {
    const d1 = diffSnapshots(snaps[0], snaps[1]);
    expect(d1.sptes[0]).toMatchObject({ change: 'changed', gained: ['W'], lost: [], valueChanged: true });
    expect(d1.tlb.map((t) => t.change)).toEqual(['new']);
    expect(d1.dirty[0]).toMatchObject({ change: 'same', fields: [] });
    expect(d1.notes[0].change).toBe('same');

    const d2 = diffSnapshots(snaps[1], snaps[2]);
    expect(d2.sptes[0]).toMatchObject({ gained: ['D'], lost: [] });
    expect(d2.dirty[0]).toMatchObject({ change: 'changed', fields: ['live'] });
    expect(d2.tlb[0].change).toBe('same');
  });

  it('reports flushed TLB entries and changed notes with their old value', () => {
    const d3 = diffSnapshots(snaps[2], snaps[3]);
    expect(d3.sptes[0].lost).toEqual(['PRESENT', 'W', 'A', 'D', 'HOST_WRITEABLE', 'MMU_WRITEABLE']);
    expect(d3.tlbGone).toEqual([{ vcpu: 0, gva: 0x40005000, pfn: 0x21, writable: true }]);
    expect(d3.notes).toEqual([
      { key: 'vcpu0.mode', value: 'OUTSIDE_GUEST_MODE', change: 'changed', before: 'IN_GUEST_MODE' },
      { key: 'mmu_notifier_seq', value: 3, change: 'new' },
    ]);
    expect(diffSummary(d3, false)).toBe('changed: 1 SPTE, 1 TLB entry, 2 notes');
  });

  it('says when nothing changed', () => {
    const d = diffSnapshots(snaps[1], snaps[1]);
    expect(d.any).toBe(false);
    expect(diffSummary(d, false)).toBe('nothing in the snapshot changed');
    expect(diffSummary(d, true)).toBe('the starting state');
  });
});

describe('race lab text', () => {
  it('names lanes and orders the columns by the scenario', () => {
    expect(runLanes(INFO, RUN).map(laneName)).toEqual(['vCPU 0', 'host / VMM', 'guest']);
    expect(runLanes(null, RUN)).toEqual(['host', 'vcpu0', 'guest']);
  });

  it('spells out HOST_WRITEABLE and MMU_WRITEABLE whether set or clear', () => {
    const s0 = RUN.steps[0].snapshot.sptes[0];
    expect(spteFlagWords(s0)).toEqual(['PRESENT', 'A', 'HOST_WRITEABLE', 'MMU_WRITEABLE']);
    const s3 = RUN.steps[3].snapshot.sptes[0];
    expect(spteFlagWords(s3)).toEqual(['HOST_WRITEABLE clear', 'MMU_WRITEABLE clear']);
    expect(spteText(s0)).toBe('SPTE gfn 0x5: 0x00002105 → pfn 0x21');
    expect(spteText(s3)).toBe('SPTE gfn 0x5: 0x00000000 (not present)');
    expect(spteText({ ...s0, loc: -1 })).toBe('SPTE gfn 0x5: does not exist');
  });

  it('describes changes in words, not colour alone', () => {
    const d = diffSnapshots(RUN.steps[1].snapshot, RUN.steps[2].snapshot);
    expect(spteChangeText(d.sptes[0])).toBe('changed: +D');
    const d3 = diffSnapshots(RUN.steps[2].snapshot, RUN.steps[3].snapshot);
    expect(spteChangeText(d3.sptes[0])).toMatch(/^changed: −PRESENT −W/);
  });

  it('reads dirty bits and TLB entries', () => {
    expect(dirtyText(RUN.steps[2].snapshot.dirty[0])).toBe('gfn 0x5: live bit set, collected no, host dirty clear');
    expect(dirtyText({ gfn: 1, live: false, collected: true, hostDirty: null })).toBe('gfn 0x1: live bit clear, collected yes, host dirty n/a');
    expect(tlbText(RUN.steps[1].snapshot.tlb[0])).toBe('vCPU 0: gva 0x40005000 → pfn 0x21, writable');
  });

  it('gives the verdict and whether it was the expected one', () => {
    const oops = verdictView(RUN);
    expect(oops.outcome).toBe('oops');
    expect(oops.headline).toBe('OOPS: the host dirty flag checker found 1 violation.');
    expect(oops.expectation).toBe('This is the expected outcome with the protection off.');
    const clean = verdictView(SAFE_RUN);
    expect(clean.outcome).toBe('clean');
    expect(clean.headline).toMatch(/^Clean/);
    const wrong = verdictView({ ...SAFE_RUN, verdict: { checker: 'x', violations: ['lost'], expected: false } });
    expect(wrong.expectation).toBe('NOT the expected outcome with the protection on: the scenario predicts a clean end.');
    // A harmless variant: clean with the protection off, and that is what it predicts.
    const harmless = verdictView({ ...RUN, verdict: { checker: 'x', violations: [], expected: true } });
    expect(harmless).toMatchObject({ outcome: 'clean', expected: true, expectation: 'This is the expected outcome with the protection off.' });
    const missed = verdictView({ ...RUN, verdict: { checker: 'x', violations: [], expected: false } });
    expect(missed.expectation).toBe('NOT the expected outcome with the protection off: the scenario predicts an OOPS.');
  });
});

describe('race free play', () => {
  const lanes = runLanes(INFO, RUN);

  it('lists the pause points each lane parks at, once, with their steps', () => {
    expect(pausePoints(RUN, lanes)).toEqual([
      { lane: 'host', point: 'clearTrackBits.afterRead', steps: [0] },
      { lane: 'host', point: 'clearTrackBits.afterStore', steps: [3] },
    ]);
  });

  it('steps to the next armed stop, else the end; back to the previous, else 0', () => {
    const armed = new Set([pointKey('host', 'clearTrackBits.afterStore')]);
    expect(nextStop(RUN.steps, 0, armed)).toBe(3);
    expect(previousStop(RUN.steps, 3, armed)).toBe(0);
    const first = new Set([pointKey('host', 'clearTrackBits.afterRead')]);
    expect(nextStop(RUN.steps, 0, first)).toBe(3); // no armed stop ahead: the end
    expect(previousStop(RUN.steps, 3, first)).toBe(0);
    expect(nextStop(RUN.steps, 1, new Set())).toBe(2);
    expect(previousStop(RUN.steps, 1, new Set())).toBe(0);
    expect(nextStop(RUN.steps, 3, new Set())).toBe(3);
  });
});
