// Cell geometry of the dirty-bitmap heat map: page i of the slot is the cell
// at (i % width, floor(i / width)). The canvas is exactly one pixel per cell
// and CSS scales it up, so hit-testing only has to undo that scale.

export interface DirtyGrid {
  pages: number;
  width: number;
  height: number;
}

/** 256 columns up to 64 Ki pages (a 256 MiB slot), 512 above (up to 512 × 512 = 256 Ki pages). */
export function dirtyGrid(pages: number): DirtyGrid {
  const width = pages > 65536 ? 512 : 256;
  return { pages, width, height: Math.max(1, Math.ceil(pages / width)) };
}

/**
 * The page under a point given in CSS pixels relative to the canvas box of
 * size boxW × boxH, or -1 outside the slot (the unused tail of the last row).
 */
export function pageAtPoint(g: DirtyGrid, x: number, y: number, boxW: number, boxH: number): number {
  if (boxW <= 0 || boxH <= 0) return -1;
  const col = Math.floor((x / boxW) * g.width);
  const row = Math.floor((y / boxH) * g.height);
  if (col < 0 || col >= g.width || row < 0 || row >= g.height) return -1;
  const page = row * g.width + col;
  return page < g.pages ? page : -1;
}

/** Move a selected page with the arrow keys; stays inside the slot. */
export function stepPage(g: DirtyGrid, page: number, key: string): number {
  const d = key === 'ArrowLeft' ? -1 : key === 'ArrowRight' ? 1 : key === 'ArrowUp' ? -g.width : key === 'ArrowDown' ? g.width : 0;
  const next = (page < 0 ? 0 : page) + d;
  return next >= 0 && next < g.pages ? next : Math.max(0, page);
}
