// The race lab's free-play (live) controls, one group per lane: the pause
// points to arm (checkboxes), an operation with its arguments, and Release /
// Wait buttons. Built again from the session state after every action (the
// state says what each lane is doing). The panel (panels/race-lab.ts) owns
// the session and gets the user's actions through `act`.
//
// Button names say the lane ("Issue on vCPU 0", "Release host / VMM") so none
// is ambiguous on the page, and none is the machine's Run / Pause / Step / Reset.
import { h, uniqueId } from './dom.ts';
import { liveLaneButtons, liveLaneText, opAction, toggleArmed } from './race-live.ts';
import { laneName } from './race-view.ts';
import type { RaceAction, RaceSessionLane, RaceSessionState } from './vmm-api.ts';

export interface LiveControlHooks {
  /** Do one action on the live session (the panel serialises them). */
  act(a: RaceAction): void;
  /** A problem with what was typed, before anything is sent. */
  problem(text: string): void;
  /** An action is in flight: every control waits. */
  busy: boolean;
}

/** The per-lane groups for session state `s`; `keep` carries the typed argument text across redraws. */
export function liveLaneControls(s: RaceSessionState, hooks: LiveControlHooks, keep: Map<string, string>): HTMLElement[] {
  return s.lanes.filter((l) => l.ops.length > 0 || l.points.length > 0).map((l) => laneGroup(l, hooks, keep));
}

function laneGroup(l: RaceSessionLane, hooks: LiveControlHooks, keep: Map<string, string>): HTMLElement {
  const name = laneName(l.lane);
  const can = liveLaneButtons(l);
  const off = hooks.busy;

  const points = h('div', { class: 'race-live-points', role: 'group', 'aria-label': `Pause points armed on ${name}` },
    ...l.points.map((p) => {
      const box = h('input', { type: 'checkbox', checked: l.armed.includes(p), disabled: off, 'data-live-key': `arm:${l.lane}:${p}` });
      box.addEventListener('change', () => hooks.act({ kind: 'arm', lane: l.lane, points: toggleArmed(l, p, box.checked) }));
      return h('label', { class: 'check' }, box, p);
    }));

  const opId = uniqueId(`race-live-op-${l.lane}`);
  const opPick = h('select', { id: opId, disabled: off || !can.issue, 'data-live-key': `op:${l.lane}` },
    ...l.ops.map((o) => h('option', { value: o.name, title: o.help }, o.name)));
  opPick.value = keep.get(`${l.lane}:op`) ?? l.ops[0]?.name ?? '';
  const argBox = h('span', { class: 'race-live-args' });
  const drawArgs = () => {
    const op = l.ops.find((o) => o.name === opPick.value);
    argBox.replaceChildren(...(op?.args ?? []).map((a) => {
      const id = uniqueId(`race-live-arg-${l.lane}-${a}`);
      const key = `${l.lane}:${op!.name}:${a}`;
      const input = h('input', {
        id, type: 'text', class: 'race-live-arg', value: keep.get(key) ?? '', disabled: off || !can.issue, 'data-live-key': `arg:${key}`,
      });
      input.addEventListener('input', () => keep.set(key, input.value));
      return h('label', { for: id, class: 'check' }, `${a} `, input);
    }));
  };
  opPick.addEventListener('change', () => {
    keep.set(`${l.lane}:op`, opPick.value);
    drawArgs();
  });
  drawArgs();
  const issue = h('button', { type: 'button', disabled: off || !can.issue, 'data-live-key': `issue:${l.lane}` }, `Issue on ${name}`);
  issue.addEventListener('click', () => {
    const op = l.ops.find((o) => o.name === opPick.value);
    if (!op) return;
    const texts = [...argBox.querySelectorAll('input')].map((i) => i.value);
    const r = opAction(l.lane, op, texts);
    if ('error' in r) hooks.problem(r.error);
    else hooks.act(r.action);
  });
  const release = h('button', { type: 'button', disabled: off || !can.release, 'data-live-key': `release:${l.lane}` }, `Release ${name}`);
  release.addEventListener('click', () => hooks.act({ kind: 'release', lane: l.lane }));
  const join = h('button', { type: 'button', disabled: off || !can.join, 'data-live-key': `join:${l.lane}` }, `Wait for ${name}`);
  join.addEventListener('click', () => hooks.act({ kind: 'join', lane: l.lane }));

  return h('fieldset', { class: 'race-live-lane', 'data-lane': l.lane, 'data-lane-state': l.state },
    h('legend', {}, name),
    h('p', { class: 'race-live-state' }, liveLaneText(l)),
    points,
    h('div', { class: 'race-live-op' }, h('label', { for: opId, class: 'check' }, `Operation on ${name} `, opPick), argBox, issue),
    h('div', { class: 'race-live-op' }, release, join));
}
