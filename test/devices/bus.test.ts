import { describe, expect, it } from 'vitest';
import { Bus, type MmioDevice } from '../../src/devices/bus.ts';

/** A device with one 32-bit register at offset 0 that only takes 4-byte accesses. */
function reg32(): MmioDevice & { value: number } {
  return {
    value: 0,
    mmioLoad(off, size) {
      return off === 0 && size === 4 ? this.value >>> 0 : -1;
    },
    mmioStore(off, size, v) {
      if (off !== 0 || size !== 4) return false;
      this.value = v;
      return true;
    },
  };
}

describe('Bus', () => {
  it('routes accesses to the device by address, relative to its base', () => {
    const d = reg32();
    const bus = new Bus(3).map('r', 0x1000_0000, 0x100, d);
    bus.store(0x1000_0000, 4, -1);
    expect(bus.error).toBe(false);
    expect(bus.load(0x1000_0000, 4)).toBe(0xffff_ffff); // zero-extended, unsigned
    expect(bus.vcpuId).toBe(3);
    expect(bus.loads).toBe(1);
    expect(bus.stores).toBe(1);
  });

  it('sets error for unmapped addresses and for accesses a device refuses', () => {
    const bus = new Bus(0).map('r', 0x8000, 0x10, reg32());
    expect(bus.load(0x7ffc, 4)).toBe(0);
    expect(bus.error).toBe(true);
    bus.load(0x8000, 4);
    expect(bus.error).toBe(false);
    bus.store(0x8000, 1, 0); // wrong width
    expect(bus.error).toBe(true);
    bus.store(0x8010, 4, 0); // just past the region
    expect(bus.error).toBe(true);
    expect(bus.faults).toBe(3);
  });

  it('accepts addresses given as int32 (negative) or unsigned', () => {
    const d = reg32();
    const bus = new Bus(0).map('hi', 0xf000_0000, 0x10, d);
    bus.store(0xf000_0000 | 0, 4, 5);
    expect(bus.error).toBe(false);
    expect(bus.load(0xf000_0000, 4)).toBe(5);
  });

  it('refuses overlapping regions', () => {
    const bus = new Bus(0).map('a', 0x1000, 0x100, reg32());
    expect(() => bus.map('b', 0x10f0, 0x10, reg32())).toThrow(/overlaps 'a'/);
    expect(() => bus.map('c', 0xffff_fff0, 0x20, reg32())).toThrow(/EINVAL/);
    expect(bus.list().map((r) => r.name)).toEqual(['a']);
  });
});
