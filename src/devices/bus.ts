// The MMIO bus of one vCPU: where a guest load or store goes when the address
// is not RAM (the hart got XLATE_MMIO and calls mmioLoad/mmioStore).
//
// In KVM terms every access that lands here is an MMIO exit: the "hardware"
// could not complete it, so the hypervisor decodes it and emulates the device.
// Device state lives in `hv`, shared by all workers; the Bus object itself is
// per vCPU (cheap: a table of regions), so each worker builds its own and
// counts its own exits.
//
// Errors: an address no device decodes, or an access width or alignment a
// device does not accept, sets `error`; the hart then raises a load/store
// access fault, as QEMU does for unassigned addresses on RISC-V.

import { KvmError } from '../kvm/errors.ts';

/** A device model as the bus sees it; offsets are relative to its base. */
export interface MmioDevice {
  /** Read `size` (1, 2 or 4) bytes; returns the value zero-extended (>= 0), or -1 if refused. */
  mmioLoad(offset: number, size: number): number;
  /** Write the low `size` bytes of `value`; returns false if refused. */
  mmioStore(offset: number, size: number, value: number): boolean;
}

export interface BusRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

export class Bus {
  /** Set by load/store when the access failed (no device, or refused). */
  error = false;
  /** MMIO exits seen by this vCPU (for kvm_stat-style counters). */
  loads = 0;
  stores = 0;
  faults = 0;

  private readonly regions: BusRegion[] = [];

  constructor(readonly vcpuId: number) {}

  /** Decode [base, base+size) to `device`. Regions may not overlap. */
  map(name: string, base: number, size: number, device: MmioDevice): this {
    const b = base >>> 0;
    if (!(size > 0) || b + size > 0x1_0000_0000) {
      throw new KvmError('EINVAL', `bus: region '${name}' at 0x${b.toString(16)} size ${size} does not fit in 32 bits`);
    }
    for (const r of this.regions) {
      if (b < r.base + r.size && r.base < b + size) {
        throw new KvmError('EEXIST', `bus: region '${name}' at 0x${b.toString(16)} overlaps '${r.name}'`);
      }
    }
    this.regions.push({ name, base: b, size, device });
    return this;
  }

  /** The mapped regions, for the UI's memory map. */
  list(): readonly BusRegion[] {
    return this.regions;
  }

  /** Guest load from `paddr`; returns the zero-extended value (0 and error set on failure). */
  load(paddr: number, size: number): number {
    this.loads++;
    const a = paddr >>> 0;
    const r = this.find(a);
    if (r !== undefined) {
      const v = r.device.mmioLoad(a - r.base, size);
      if (v >= 0) {
        this.error = false;
        return v;
      }
    }
    this.faults++;
    this.error = true;
    return 0;
  }

  /** Guest store of the low `size` bytes of `value` to `paddr`. */
  store(paddr: number, size: number, value: number): void {
    this.stores++;
    const a = paddr >>> 0;
    const r = this.find(a);
    if (r !== undefined && r.device.mmioStore(a - r.base, size, value)) {
      this.error = false;
      return;
    }
    this.faults++;
    this.error = true;
  }

  private find(a: number): BusRegion | undefined {
    // A handful of regions: a linear scan beats anything clever.
    for (let i = 0; i < this.regions.length; i++) {
      const r = this.regions[i]!;
      if (a - r.base < r.size && a >= r.base) return r;
    }
    return undefined;
  }
}
