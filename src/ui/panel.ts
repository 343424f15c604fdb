// The panel container: the area where the live views of KVM's machinery go
// (dirty bitmap, TLB timeline, shadow MMU explorer, locks, kvm_stat...).
//
// A panel registers once with a title and a draw(frame) callback. The frame
// loop calls draw on every animation frame while the live view runs; panels
// read shared memory through frame.views and must not call the VMM worker from
// draw (no comlink per frame, ARCHITECTURE §1).
import { h, uniqueId } from './dom.ts';
import type { SharedViews } from './shared-views.ts';
import type { VmState } from './vmm-api.ts';

export interface Frame {
  /** performance.now() of this frame. */
  now: number;
  /** Milliseconds since this panel's previous draw (0 on the first). */
  dt: number;
  /** Shared-memory views of the current VM, or null before a VM exists. */
  views: SharedViews | null;
  vmState: VmState;
  /** prefers-reduced-motion: draw without animation, at a lower rate. */
  reducedMotion: boolean;
}

export interface PanelSpec {
  /** Stable id, used for the DOM id and for tests (data-panel). */
  id: string;
  title: string;
  /** One sentence: what the panel shows and why it matters. */
  description?: string;
  /** Build the panel's DOM once inside `body`. */
  mount?(body: HTMLElement): void;
  /** Update from shared memory. Called every frame (every ~250 ms under reduced motion). */
  draw(frame: Frame): void;
  /** The VM was re-created: drop any state tied to the old buffers. */
  reset?(): void;
}

export interface PanelHandle {
  readonly body: HTMLElement;
  unregister(): void;
}

interface Entry {
  spec: PanelSpec;
  section: HTMLElement;
  body: HTMLElement;
  lastDraw: number;
  failed: boolean;
}

const REDUCED_MOTION_INTERVAL_MS = 250;

export class PanelHost {
  /** Holds the panels; main.ts places it inside <section id="panels">. */
  readonly element: HTMLElement;
  private readonly entries = new Map<string, Entry>();
  private readonly empty: HTMLElement;

  constructor() {
    this.empty = h('p', { class: 'panels-empty' },
      'Live panels (dirty bitmap, TLB flushes, shadow MMU, locks) appear here as they become available.');
    this.element = h('div', { class: 'panel-list' }, this.empty);
  }

  register(spec: PanelSpec): PanelHandle {
    if (this.entries.has(spec.id)) throw new Error(`panel '${spec.id}' is registered twice`);
    const headingId = uniqueId(`panel-${spec.id}-title`);
    const body = h('div', { class: 'panel-body' });
    const section = h('section', { class: 'panel', 'data-panel': spec.id, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, spec.title),
      spec.description ? h('p', { class: 'panel-desc' }, spec.description) : null,
      body);
    this.element.append(section);
    const entry: Entry = { spec, section, body, lastDraw: 0, failed: false };
    this.entries.set(spec.id, entry);
    this.empty.hidden = true;
    this.guard(entry, () => spec.mount?.(body));
    return {
      body,
      unregister: () => {
        section.remove();
        this.entries.delete(spec.id);
        this.empty.hidden = this.entries.size > 0;
      },
    };
  }

  /** Called by the frame loop. */
  drawAll(frame: Omit<Frame, 'dt'>): void {
    for (const e of this.entries.values()) {
      if (e.failed) continue;
      const dt = e.lastDraw ? frame.now - e.lastDraw : 0;
      if (frame.reducedMotion && e.lastDraw && dt < REDUCED_MOTION_INTERVAL_MS) continue;
      e.lastDraw = frame.now;
      this.guard(e, () => e.spec.draw({ ...frame, dt }));
    }
  }

  /** A new VM (new buffers): let panels forget the old one. */
  resetAll(): void {
    for (const e of this.entries.values()) {
      e.lastDraw = 0;
      this.guard(e, () => e.spec.reset?.());
    }
  }

  /** One broken panel must not stop the others: show its failure as text, stop drawing it. */
  private guard(e: Entry, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      e.failed = true;
      const msg = err instanceof Error ? err.message : String(err);
      e.body.replaceChildren(h('p', { class: 'panel-error' }, `This panel stopped: ${msg}`));
      console.error(`panel ${e.spec.id}`, err);
    }
  }
}

/** The page's panel container. Panels register here from anywhere, at any time. */
export const panelHost = new PanelHost();

/** Add a live panel under <section id="panels">. */
export function registerPanel(spec: PanelSpec): PanelHandle {
  return panelHost.register(spec);
}
