// `webkvm stat` and `webkvm events` through the real command, real workers
// and the built-in dirty guest, plus their pure formatting helpers.
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';
import { formatReport, makeReport, STAT_HELP, type StatReport } from '../../src/cli/stat.ts';
import { eventFields, eventJson, EVENTS_HELP, formatEventLine, parseTypes } from '../../src/cli/events.ts';
import { parseSets, startObserved } from '../../src/cli/observe.ts';
import { createVm } from '../../src/kvm/shm.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { collectStats } from '../../src/kvm/stats.ts';
import { kvmFlushRemoteTlbs } from '../../src/kvm/requests.ts';
import { EV_LOCK_CONTENDED, EV_TLB_FLUSH } from '../../src/kvm/events.ts';
import { readEvents } from '../kvm/read-events.ts';
import { FLUSH_CAUSE_DIRTY_LOG, FLUSH_CAUSE_REMOTE_FENCE } from '../../src/kvm/fields.ts';

describe('webkvm stat (real workers)', () => {
  it('--json: one report per interval with fast faults after each collection, dirty-log flushes and mmu_lock', () => {
    // The dirty guest running forever on 2 vCPUs, GET_DIRTY_LOG every 50 ms.
    const r = webkvm(['stat', 'dirty', '--vcpus', '2', '--set', 'max_iterations=0,pages_per_vcpu=32', '--collect', '50',
      '--interval', '0.5', '--count', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const reports = lines.map((l) => JSON.parse(l) as StatReport);
    const last = reports[1]!;
    expect(last.t).toBeGreaterThan(reports[0]!.t);
    expect(last.vcpus).toHaveLength(2);
    expect(last.dirty_log.collections).toBeGreaterThan(0);
    expect(last.vm['remote_tlb_flush_dirty_log']).toBeGreaterThan(0);
    expect(last.flushes_by_cause['dirty log']).toBe(last.vm['remote_tlb_flush_dirty_log']);
    expect(last.vm['fast_pf_fixed']).toBeGreaterThan(0);
    expect(last.vcpus.reduce((a, v) => a + v.fast_pf_fixed, 0)).toBe(last.vm['fast_pf_fixed']);
    expect(last.vm['pf_fixed']).toBeGreaterThanOrEqual(2 * 32); // each vCPU's region, first touch: slow path
    expect(last.locks['mmu_lock']!.acquired).toBeGreaterThan(0);
    expect(last.vm['mmu_lock_acquired']).toBe(last.locks['mmu_lock']!.acquired);
    expect(last.rate['fast_pf_fixed']).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('text: a table per interval, then the guest exit code when it ends by itself', () => {
    const r = webkvm(['stat', 'dirty', '--vcpus', '2', '--dirty-log', '--interval', '5', '--set', 'pages_per_vcpu=64']);
    expect(r.status).toBe(0); // the dirty guest passes its own check and powers off
    expect(r.stdout).toMatch(/^webkvm stat: dirty\.S on 2 vCPUs, every 5 s\n/);
    expect(r.stdout).toMatch(/VM counter +total +per s/);
    expect(r.stdout).toMatch(/\npf_fixed +\d+/);
    expect(r.stdout).toMatch(/\nremote_tlb_flush_dirty_log +\d+/); // logging switched on: the slot was write-protected
    expect(r.stdout).toMatch(/vCPU +insns +MIPS +fast_pf +fast_fail +slow_pf +guest_pf +tlb_flush +exits/);
    expect(r.stdout).toMatch(/\n +1 +\d+ /); // vCPU 1's row
  }, 60_000);

  it('bad input: an unknown symbol in --set stops before the guest runs', async () => {
    await expect(startObserved(['dirty'], { set: 'no_such_symbol=1' }, 'stat'))
      .rejects.toThrow("EINVAL: --set: dirty.S has no symbol 'no_such_symbol'");
    await expect(startObserved([], {}, 'stat')).rejects.toThrow(/stat takes one program/);
    expect(STAT_HELP).toMatch(/--interval S +seconds between reports/);
    expect(EVENTS_HELP).toMatch(/--types T,\.\.\. +only these types/);
  }, 60_000);
});

describe('webkvm events (real workers)', () => {
  it('prints flush and fault events as lines, filtered by type, up to --limit', () => {
    const r = webkvm(['events', 'dirty', '--vcpus', '2', '--set', 'max_iterations=0,pages_per_vcpu=16', '--collect', '20',
      '--types', 'tlb_flush,fast_pf_fixed', '--limit', '40', '--timeout', '20']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(40);
    for (const l of lines) expect(l).toMatch(/^ +\d+\.\d{6} (vcpu\d|vmm) +(tlb_flush|fast_pf_fixed) /);
    expect(lines.some((l) => /vmm +tlb_flush +cause=dirty-log targets=0\+1 waited=\d+ latency_us=\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /vcpu\d +fast_pf_fixed +gfn=0x[0-9a-f]+ spte=0x[0-9a-f]+$/.test(l))).toBe(true);
  }, 60_000);

});

describe('stat and events helpers', () => {
  it('parseSets and parseTypes', () => {
    expect(parseSets('a=1, b=0x20,c=-3')).toEqual([['a', 1], ['b', 32], ['c', -3]]);
    expect(parseSets('x=0xffffffff')).toEqual([['x', -1]]);
    expect(parseSets(undefined)).toEqual([]);
    expect(() => parseSets('a=1=2')).toThrow(/SYMBOL=NUMBER/);
    expect(() => parseSets('a=0x100000000')).toThrow(/32-bit/);
    expect(() => parseSets('max_iterations')).toThrow(/--set expects SYMBOL=NUMBER/);
    expect(parseTypes('tlb_flush,lock_contended')).toBe((1 << EV_TLB_FLUSH) | (1 << EV_LOCK_CONTENDED));
    expect(parseTypes(undefined)).toBe(0);
    expect(() => parseTypes('none')).toThrow(/unknown event type/);
    expect(() => parseTypes('nope')).toThrow(/unknown event type 'nope'/);
  });

  it('a flush event names its cause and targets; rates come from the previous report', () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 4 });
    kvmFlushRemoteTlbs(new Kvm(vm, 1), FLUSH_CAUSE_REMOTE_FENCE, 0b0101);
    const [e] = readEvents(vm.view('events'), 0, 1).events;
    expect(eventFields(e!, 4)).toMatchObject({ cause: 'remote-fence', targets: '0+2', waited: 0 });
    expect(formatEventLine(e!, e!.timeUs, 4)).toMatch(/^ +0\.000000 vcpu1 tlb_flush +cause=remote-fence targets=0\+2 waited=0 latency_us=\d+$/);
    expect(JSON.parse(JSON.stringify(eventJson(e!, e!.timeUs - 1500, 4)))).toMatchObject(
      { seq: 0, t: 0.0015, vcpu: 1, type: 'tlb_flush', cause: 'remote-fence', targets: '0+2', waited: 0 });

    const r1 = makeReport(collectStats(vm, 1), null, 1, 1, { count: 0, pages: 0 });
    kvmFlushRemoteTlbs(new Kvm(vm), FLUSH_CAUSE_DIRTY_LOG);
    kvmFlushRemoteTlbs(new Kvm(vm), FLUSH_CAUSE_DIRTY_LOG);
    const r2 = makeReport(collectStats(vm, 1.5), r1.vm, 1.5, 0.5, { count: 2, pages: 10 });
    expect(r2.vm['remote_tlb_flush']).toBe(3);
    expect(r2.rate['remote_tlb_flush']).toBe(4); // 2 more in 0.5 s
    expect(r2.vm['remote_tlb_flush_dirty_log']).toBe(2);
    expect(r2.vm['remote_tlb_flush_remote_fence']).toBe(1);
    const text = formatReport(r2, false);
    expect(text).toMatch(/remote_tlb_flush_dirty_log +2 +4\n/);
    expect(text).not.toMatch(/mmu_flooded/); // zero rows hidden without --all
    expect(formatReport(r2, true)).toMatch(/mmu_flooded +0/);
    expect(text).toMatch(/GET_DIRTY_LOG by --collect +2 \(10 pages\)/);
  });
});
