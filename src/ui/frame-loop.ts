// The one requestAnimationFrame loop of the page. Each frame it
//   - drains the console ring (always: guest output must not pile up),
//   - samples the MIPS meter and draws the panels, unless the live view is
//     paused (WCAG 2.2.2),
//   - offers the announcer a rate summary.
// It only reads shared memory; it never calls the VMM worker.
import type { Announcer } from './announcer.ts';
import type { ConsoleView } from './console.ts';
import { reducedMotion } from './media.ts';
import type { MipsMeter } from './mips-meter.ts';
import type { PanelHost } from './panel.ts';
import type { Session } from './session.ts';

export interface FrameLoopParts {
  session: Session;
  console: ConsoleView;
  meter: MipsMeter;
  panels: PanelHost;
  announcer: Announcer;
  liveView: () => boolean;
}

export function startFrameLoop(p: FrameLoopParts): void {
  let views = p.session.current.views;
  const frame = (now: number) => {
    const s = p.session.current;
    if (s.views !== views) {
      // A new VM means new buffers: start the console and panels afresh.
      views = s.views;
      p.console.reset();
      p.panels.resetAll();
    }
    p.console.pump(views);
    if (p.liveView()) {
      p.meter.tick(now, views);
      p.panels.drawAll({ now, views, vmState: s.vm, reducedMotion: reducedMotion.matches });
      if (s.vm === 'running') {
        p.announcer.summary(now, () => `Running, ${p.meter.totalMips.toFixed(1)} million instructions per second in total.`);
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
