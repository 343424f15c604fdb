// `webkvm explain` through the real command: the explorer's walk on an Sv32
// guest (indirect shadow pages) and a bare one (the direct nonpaging map).
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

describe('webkvm explain', () => {
  it('Sv32: guest level 1 and 0, indirect shadow pages, the host pfn', () => {
    const r = webkvm(['explain', 'paging-dirty', '--vcpus', '2', '--at', '0x80000000', '--after-insns', '200000']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^guest level 1: table gfn 0x[0-9a-f]+ \[512\] .* \(pointer; host pfn/m);
    expect(r.stdout).toMatch(/^guest level 0: .* \(leaf; host pfn/m);
    expect(r.stdout).toMatch(/^shadow level 1: sp #\d+ \(indirect, level 1, shadows guest table gfn 0x[0-9a-f]+\) \[0\] = 0x[0-9a-f]+ P\S+ HOST_WRITEABLE=1 MMU_WRITEABLE=\d pfn 0x[0-9a-f]+$/m);
    expect(r.stdout).toMatch(/^host: resident in host pfn 0x[0-9a-f]+/m);
    expect(r.stdout).toMatch(/^shadow pages in use: [1-9]\d* direct, [1-9]\d* indirect$/m);
  });

  it('satp bare: the nonpaging direct map; a symbol works as the address', () => {
    const r = webkvm(['explain', 'dirty', '--at', 'region_base', '--after-insns', '50000']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^guest: satp = bare/m);
    expect(r.stdout).toMatch(/^shadow level 1: sp #\d+ \(direct, nonpaging, level 1, maps gfn 0x80000\+\)/m);
    expect(webkvm(['explain', 'dirty', '--at', 'nowhere']).stderr).toMatch(/not a 32-bit address or a symbol/);
  });

  it('--page: the host page and the SPTEs in its rmap', () => {
    const r = webkvm(['explain', 'dirty', '--vcpus', '2', '--page', '0x80000', '--after-insns', '50000']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gfn 0x80000 \(guest physical 0x80000000\): resident in host pfn 0x[0-9a-f]+/m);
    expect(r.stdout).toMatch(/^[1-9]\d* SPTEs? in its rmap:$/m);
    expect(r.stdout).toMatch(/^  sp #\d+ \(direct, nonpaging, level 1, maps gfn 0x80000\+\) \[0\] = /m);
  });
});

