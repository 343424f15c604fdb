import { describe, expect, it } from 'vitest';
import { attachVm, createVm, HvLayout, resolveVmConfig } from '../../src/kvm/shm.ts';
import { errnoOf } from './errno.ts';
import {
  HDR_MAGIC, KVM_POOL_FREE_COUNT, KVM_SP_FREE_COUNT, MEMSLOT_BASE_GFN, MEMSLOT_NPAGES,
} from '../../src/kvm/fields.ts';

describe('VmConfig validation', () => {
  it('fills in the defaults', () => {
    const c = resolveVmConfig();
    expect(c.memBytes).toBe(64 << 20);
    expect(c.vcpus).toBe(1);
    expect(c.ramBase).toBe(0x8000_0000 | 0);
    expect(c.poolPfns).toBe(16384 + 2048); // 12.5% spare
  });

  it('refuses bad sizes and counts with EINVAL / ENOMEM', () => {
    expect(errnoOf(() => resolveVmConfig({ memBytes: 4097 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ memBytes: 0 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ memBytes: 2 ** 30 + 4096 }))).toBe('ENOMEM');
    expect(errnoOf(() => resolveVmConfig({ vcpus: 0 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ vcpus: 9 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ vcpus: 1.5 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ ramBase: 0xffff_f000, memBytes: 8192 }))).toBe('EINVAL');
    expect(errnoOf(() => resolveVmConfig({ shadowPages: 2 }))).toBe('EINVAL');
    expect(resolveVmConfig({ memBytes: 2 ** 30 }).memPages).toBe(262144);
  });
});

describe('hv layout', () => {
  it('places every region aligned, in order, without overlap, inside hv', () => {
    const vm = createVm({ memBytes: 8 << 20, vcpus: 2 });
    let end = 0;
    for (const r of vm.layout.regions) {
      expect(r.offset).toBeGreaterThanOrEqual(end);
      expect(r.offset % 16).toBe(0);
      end = r.offset + r.words;
    }
    expect(end).toBeLessThanOrEqual(vm.hv.byteLength / 4);
    expect(vm.layout.region('spt').offset % 1024).toBe(0);
    expect(vm.spt.length).toBe(vm.config.shadowPages * 1024);
    expect(vm.ram.byteLength).toBe(vm.config.poolPfns * 4096);
    expect(errnoOf(() => vm.layout.region('no-such-region'))).toBe('EINVAL');
    const rec = vm.layout.toRecord();
    expect(rec['spt']!.offset).toBe(vm.layout.region('spt').offset * 4);
    expect(rec['vcpu']!.words).toBeGreaterThan(0); // other modules' regions are in the one table
  });

  it('is a pure function of the config', () => {
    const c = resolveVmConfig({ memBytes: 8 << 20, vcpus: 3 });
    const a = new HvLayout(c);
    const b = new HvLayout(c);
    expect(a.hash).toBe(b.hash);
    expect(a.regions).toEqual(b.regions);
    expect(new HvLayout(resolveVmConfig({ memBytes: 8 << 20, vcpus: 4 })).hash).not.toBe(a.hash);
  });

  it('starts with free pools and the default memslot', () => {
    const vm = createVm({ memBytes: 8 << 20 });
    expect(vm.kvm[KVM_POOL_FREE_COUNT]).toBe(vm.config.poolPfns);
    expect(vm.kvm[KVM_SP_FREE_COUNT]).toBe(vm.config.shadowPages);
    expect(vm.memslots[MEMSLOT_BASE_GFN]).toBe(0x80000);
    expect(vm.memslots[MEMSLOT_NPAGES]).toBe(2048);
    expect(createVm({ memBytes: 8 << 20, ramBase: null }).memslots[MEMSLOT_NPAGES]).toBe(0);
  });
});

describe('attachVm', () => {
  it('rebuilds the same views over the same memory from the buffers alone', () => {
    const vm = createVm({ memBytes: 8 << 20, vcpus: 2 });
    const other = attachVm(vm.hv, vm.ram);
    expect(other.config).toEqual(vm.config);
    expect(other.layout.regions).toEqual(vm.layout.regions);
    vm.spt[1234] = 0x5a5a;
    vm.ramI32[77] = -3;
    expect(other.spt[1234]).toBe(0x5a5a);
    expect(other.ramI32[77]).toBe(-3);
    other.view('vcpu')[3] = 42;
    expect(vm.view('vcpu')[3]).toBe(42);
  });

  it('refuses buffers that are not a VM of this layout', () => {
    const vm = createVm({ memBytes: 8 << 20 });
    expect(errnoOf(() => attachVm(new SharedArrayBuffer(vm.hv.byteLength), vm.ram))).toBe('EINVAL');
    expect(errnoOf(() => attachVm(vm.hv, new SharedArrayBuffer(4096)))).toBe('EINVAL');
    const copy = new SharedArrayBuffer(vm.hv.byteLength + 64);
    new Int32Array(copy).set(new Int32Array(vm.hv));
    expect(errnoOf(() => attachVm(copy, vm.ram))).toBe('EINVAL'); // right header, wrong size
    expect(new Int32Array(vm.hv)[HDR_MAGIC]).toBe(0x4b564d68);
  });
});
