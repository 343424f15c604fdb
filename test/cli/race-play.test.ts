// `webkvm race play`: free play, live, from a script of actions, through the
// real command: the steps printed as `webkvm race` prints them, the verdict
// the checkers give, and bad lines named by number with exit 125.
import { describe, expect, it } from 'vitest';
import { parsePlayScript } from '../../src/cli/race-play.ts';
import { scratch, webkvm } from './helpers.ts';

const STALE_TLB = `# stale-tlb's interleaving, by hand
vcpu0 write 0x80030000 1
arm host get-log:before-flush
host get-log
arm host
release host
vcpu0 write 0x80030000 2
host get-log
verdict
`;

describe('webkvm race play', () => {
  it('replays stale-tlb by hand from a file: the OOPS with --unsafe, clean without (stdin)', () => {
    const unsafe = webkvm(['race', 'play', 'stale-tlb', '--unsafe', '--script', scratch('stale.play', STALE_TLB)]);
    expect(unsafe.stderr).toBe('');
    expect(unsafe.status).toBe(0);
    expect(unsafe.stdout).toMatch(/^race play stale-tlb: .*\(protection OFF\); lanes vcpu0, host, set up$/m);
    expect(unsafe.stdout).toMatch(/^\[1\] host +GET_DIRTY_LOG \(slot 0\); parked at get-log:before-flush$/m);
    expect(unsafe.stdout).toMatch(/^ +armed host: get-log:before-flush$/m);
    expect(unsafe.stdout).toMatch(/^\[3\] vcpu0 store 0x2 to 0x80030000: TLB hit/m);
    expect(unsafe.stdout).toMatch(/^verdict: OOPS, found by stale TLB$/m);
    const safe = webkvm(['race', 'play', 'stale-tlb', '--script', '-'], STALE_TLB);
    expect(safe.status).toBe(0);
    expect(safe.stdout).toMatch(/^\[3\] vcpu0 store 0x2 to 0x80030000: TLB miss, walked/m);
    expect(safe.stdout).toMatch(/^verdict: clean/m);
    expect(safe.stdout).toMatch(/^outcome: as expected for this setting$/m);
  });

  it('a bad line is named, before anything runs; a refused action is named with its line; exit 125', () => {
    const syntax = webkvm(['race', 'play', 'stale-tlb', '--script', '-'], 'vcpu0 write 0x80030000 1\n\nvcpu0 write 0x80030000 zz\n');
    expect(syntax.status).toBe(125);
    expect(syntax.stdout).toBe('');
    expect(syntax.stderr).toMatch(/^webkvm: EINVAL: race play: line 3: 'zz' is not a number/);
    const refused = webkvm(['race', 'play', 'stale-tlb', '--script', '-'], 'vcpu0 write 0x80030000 1\nrelease host\n');
    expect(refused.status).toBe(125);
    expect(refused.stdout).toMatch(/^\[0\] vcpu0 store 0x1/m);
    expect(refused.stderr).toMatch(/^webkvm: EINVAL: race play: line 2 \(release host\): race free play: lane host is not parked/);
    const point = webkvm(['race', 'play', 'stale-tlb', '--script', '-'], 'arm vcpu0 fast:before-cmpxchg\n');
    expect(point.status).toBe(125);
    expect(point.stderr).toMatch(/line 1 .*no pause point 'fast:before-cmpxchg'; its points: fast-pf:before-cmpxchg/);
    expect(webkvm(['race', 'play', 'stale-tlb']).stderr).toMatch(/--script FILE/);
    expect(webkvm(['race', 'play', 'nope', '--script', '-'], '').status).toBe(125);
  });

  it('parses every kind of line', () => {
    const p = parsePlayScript('arm vcpu0 fast-pf:before-cmpxchg slow-pf:after-pfn\n  # c\nvcpu1 context S 0x80080081\nhost ksm-merge 0x80010 33\njoin host\nverdict\n');
    expect(p.map((l) => l.line)).toEqual([1, 3, 4, 5, 6]);
    expect(p[0]).toMatchObject({ kind: 'action', action: { kind: 'arm', lane: 'vcpu0', points: ['fast-pf:before-cmpxchg', 'slow-pf:after-pfn'] } });
    expect(p[1]).toMatchObject({ action: { kind: 'op', lane: 'vcpu1', op: 'context', args: [1, 0x80080081] } });
    expect(p[2]).toMatchObject({ action: { kind: 'op', lane: 'host', op: 'ksm-merge', args: [0x80010, 33] } });
    expect(p[3]).toMatchObject({ action: { kind: 'join', lane: 'host' } });
    expect(p[4]).toMatchObject({ kind: 'verdict' });
    expect(() => parsePlayScript('\nrelease\n')).toThrow(/line 2: release takes one lane/);
    expect(() => parsePlayScript('cpu0 write 1 2')).toThrow(/line 1: unknown action 'cpu0'/);
    expect(() => parsePlayScript('vcpu0 write 0x1ffffffff 1')).toThrow(/does not fit in 32 bits/);
  });
});
