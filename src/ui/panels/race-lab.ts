// The Race lab panel: replay a race of locking.txt step by step, protection
// on or off, on the real code (src/kvm/race/, inside the VMM worker).
//
// Run makes ONE comlink call (raceRun) that returns the whole recorded run:
// every step with its snapshot, and the checker's verdict. Stepping, playing,
// replay stops and links then only move through that recording, so nothing
// here calls the worker per step or per frame.
//
// Free play (live) drives a session in the VMM worker instead: the scenario's
// setup, then one comlink call per user action (arm, an operation, release,
// wait, verdict), each answered with the step it produced, drawn in the same
// lane view (race-live.ts, race-live-controls.ts).
//
// Lanes are columns (vCPU 0, vCPU 1, host, guest: the scenario's own); steps
// run down the page in time order. The current step is outlined AND labelled
// "current step" (aria-current too); changes since the previous step are
// marked with words ("new", "+W", "flushed"), not colour alone.
//
// The link fragment (#race=NAME&unsafe=1&step=7) is parsed strictly by
// race-fragment.ts and only ever reaches the page through textContent.
//
// Readiness for tests, on the panel section: data-race-state (idle | loading |
// running | ready | error), data-race-scenario, data-race-unsafe,
// data-race-step, data-race-steps, data-race-verdict (none | pending | clean |
// oops), data-race-expected (true | false), data-race-live (off | starting |
// on | acting).
import { h, isAvailable, setAvailable, uniqueId } from '../dom.ts';
import { userMessage } from '../errors.ts';
import { reducedMotion } from '../media.ts';
import { registerPanel } from '../panel.ts';
import { diffSnapshots, type SnapshotDiff } from '../race-diff.ts';
import { clampLinkStep, formatRaceFragment, parseRaceFragment, type RaceLink } from '../race-fragment.ts';
import { nextStop, pausePoints, pointKey, previousStop } from '../race-freeplay.ts';
import { liveRun } from '../race-live.ts';
import { liveLaneControls } from '../race-live-controls.ts';
import { playInterval, RaceCursor } from '../race-nav.ts';
import {
  changeWord, diffSummary, dirtyText, laneName, noteText, parkedText, runLanes, spteChangeText, spteFlagWords,
  spteText, stepHeading, tlbText, verdictView, WRITEABLE_FLAGS,
} from '../race-view.ts';
import type { Session } from '../session.ts';
import type {
  RaceAction, RaceLane, RaceRun, RaceScenarioInfo, RaceSessionState, RaceStep, RaceVerdict, VmmApi,
} from '../vmm-api.ts';

export const RACE_LAB_DESCRIPTION =
  'Replay a race from locking.txt on the real code, one step at a time: the lanes are the vCPUs, the host and ' +
  'the guest, each parked at a pause point inside fastPageFault, mmuSpteClearTrackBits, GET_DIRTY_LOG... ' +
  'Switch the protection off to watch a checker find the OOPS; on, the same steps end clean.';

type State = 'idle' | 'loading' | 'running' | 'ready' | 'error';

export function registerRaceLabPanel(api: VmmApi | null, session: Session | null): void {
  const id = (p: string) => uniqueId(`race-${p}`);
  const ids = { pick: id('pick'), prot: id('prot'), link: id('link'), help: id('help'), info: id('info') };

  // ── controls ──
  const picker = h('select', { id: ids.pick, 'aria-describedby': ids.info, disabled: true });
  const info = h('dl', { class: 'race-info', id: ids.info });
  const protection = h('input', { type: 'checkbox', role: 'switch', id: ids.prot, checked: true });
  const protWord = h('span', { class: 'race-prot-word' }, 'on');
  const runBtn = h('button', { type: 'button', 'data-testid': 'race-run', disabled: true }, 'Run scenario');
  const status = h('p', { class: 'race-status', role: 'status' }, 'Loading the scenarios…');
  const message = h('p', { class: 'race-message', 'data-testid': 'race-message', hidden: true });

  // Names unlike the machine's own Run / Reset / Pause buttons, so neither is ambiguous.
  const resetBtn = h('button', { type: 'button' }, 'Reset to step 0');
  const backBtn = h('button', { type: 'button' }, 'Step back');
  const playBtn = h('button', { type: 'button', 'data-testid': 'race-play' }, 'Play steps');
  const stepBtn = h('button', { type: 'button' }, 'Step forward');
  const counter = h('span', { class: 'race-counter', 'aria-live': 'off' });
  const linkInput = h('input', { type: 'text', id: ids.link, readonly: true, class: 'race-link', value: '' });
  const copyBtn = h('button', { type: 'button' }, 'Copy link');
  const copyMsg = h('span', { class: 'race-copy-msg', role: 'status' });
  const navButtons = [resetBtn, backBtn, playBtn, stepBtn, copyBtn];

  const freeplay = h('fieldset', { class: 'race-freeplay', hidden: true });

  // Free play, live: its own buttons, named unlike the replay's and the machine's.
  const liveStartBtn = h('button', { type: 'button', 'data-testid': 'race-live-start', disabled: true }, 'Start free play');
  const liveEndBtn = h('button', { type: 'button', disabled: true }, 'End free play');
  const liveVerdictBtn = h('button', { type: 'button', disabled: true }, 'Check verdict now');
  const liveStatus = h('p', { class: 'race-status', role: 'status', 'data-testid': 'race-live-status' },
    'Not started. Start free play sets up the chosen scenario on live lanes, with the Protection setting above.');
  const liveLanes = h('div', { class: 'race-live-lanes' });
  const liveBox = h('fieldset', { class: 'race-live', 'data-testid': 'race-live' },
    h('legend', {}, 'Free play (live): arm pause points and drive the lanes yourself'),
    h('p', { class: 'race-note' },
      "Each action runs now, on the scenario's real lane workers, after the scenario's own setup: arm pause points " +
      '(they stay armed for the lane\'s next commands), issue an operation, release a parked lane, wait for a ' +
      'blocked one. Each step appears in the lanes below; the checkers judge the state whenever you ask.'),
    h('div', { class: 'dirty-controls' }, liveStartBtn, liveEndBtn, liveVerdictBtn),
    liveStatus,
    liveLanes);
  const laneHeads = h('div', { class: 'race-lane-heads', 'aria-hidden': 'true' });
  const stepList = h('ol', { class: 'race-steps', 'aria-label': 'Steps in time order' });
  const laneView = h('div', {
    class: 'race-lane-view', tabindex: 0, role: 'group', 'aria-label': 'Race lanes',
    'aria-describedby': ids.help, 'data-testid': 'race-lanes',
  }, laneHeads, stepList);
  const help = h('p', { class: 'race-help', id: ids.help },
    'In the lanes: Down or Right arrow steps, Up or Left steps back, Home resets, End goes to the last step.');
  const verdictBox = h('section', { class: 'race-verdict', 'aria-label': 'Verdict', 'data-testid': 'race-verdict' });

  // ── state ──
  let root: HTMLElement = h('div');
  let scenarios: RaceScenarioInfo[] = [];
  let run: RaceRun | null = null;
  let lanes: RaceLane[] = [];
  let diffs: SnapshotDiff[] = [];
  const cursor = new RaceCursor();
  const armed = new Set<string>();
  let playTimer: ReturnType<typeof setTimeout> | null = null;
  let state: State = 'idle';
  /** A link waiting for the scenario list (opened at load) or for its run. */
  let pendingLink: RaceLink | null = null;
  /** The live free-play session, while one runs. */
  let live: RaceSessionState | null = null;
  let liveSteps: RaceStep[] = [];
  /** The verdict asked for since the last live step, if any. */
  let liveVerdict: RaceVerdict | null = null;
  let liveActing = false;
  /** The lane view shows free-play steps (live, or left by an ended session), not a recorded run. */
  let runIsLive = false;
  /** Typed operation arguments, kept across redraws of the live controls. */
  const liveTyped = new Map<string, string>();

  const setState = (s: State) => {
    state = s;
    root.dataset.raceState = s;
    const busy = s === 'loading' || s === 'running';
    runBtn.disabled = busy || api === null || scenarios.length === 0;
    liveStartBtn.disabled = busy || liveActing || api === null || scenarios.length === 0;
    picker.disabled = busy || scenarios.length === 0;
    protection.disabled = busy;
    // aria-disabled, not disabled: a button that runs out of steps while focused keeps the focus.
    for (const b of navButtons) setAvailable(b, run !== null && !busy);
  };

  const showMessage = (lines: string[]) => {
    message.hidden = lines.length === 0;
    message.textContent = lines.join(' ');
  };

  const selected = (): RaceScenarioInfo | null => scenarios.find((s) => s.name === picker.value) ?? null;

  const showInfo = () => {
    const s = selected();
    const row = (term: string, def: string) => [h('dt', {}, term), h('dd', {}, def)];
    info.replaceChildren(...(s ? [
      ...row('Replays', `${s.title} (${s.source})`),
      ...row('Protection', s.protection),
      ...row('Lanes', s.lanes.map(laneName).join(', ')),
      ...row('Protection on', s.expectSafe),
      ...row('Protection off', s.expectUnsafe),
    ] : []));
  };

  const showProtection = () => {
    protWord.textContent = protection.checked ? 'on' : 'off (unsafe)';
  };

  // ── playing ──
  const stopPlay = () => {
    if (playTimer !== null) clearTimeout(playTimer);
    playTimer = null;
    playBtn.textContent = 'Play steps';
  };
  const tick = () => {
    playTimer = null;
    if (!run || !move(nextStop(run.steps, cursor.step, armed)) || cursor.atEnd) {
      stopPlay();
      return;
    }
    playTimer = setTimeout(tick, playInterval(reducedMotion.matches));
  };
  const startPlay = () => {
    if (!run || cursor.atEnd) return;
    playBtn.textContent = 'Pause steps';
    playTimer = setTimeout(tick, reducedMotion.matches ? 0 : 150);
  };

  // ── moving through the run ──
  /** Go to step n and redraw; false if it was already there. */
  function move(n: number): boolean {
    if (!cursor.goTo(n)) return false;
    drawStep();
    return true;
  }
  const forward = () => run !== null && move(nextStop(run.steps, cursor.step, armed));
  const backward = () => run !== null && move(previousStop(run.steps, cursor.step, armed));

  const link = (): RaceLink | null => (run ? { name: run.scenario, unsafe: run.unsafe, step: cursor.step } : null);
  const linkUrl = (l: RaceLink) => `${location.origin}${location.pathname}${location.search}${formatRaceFragment(l)}`;

  // ── drawing ──
  const drawLanes = () => {
    laneHeads.replaceChildren(...lanes.map((l) => h('div', { class: 'race-lane-head', 'data-lane': l }, laneName(l))));
    const cols = `repeat(${lanes.length}, minmax(12rem, 1fr))`;
    laneHeads.style.gridTemplateColumns = cols;
    stepList.style.gridTemplateColumns = cols;
  };

  function drawStep(): void {
    if (!run) return;
    if (run.steps.length === 0) {
      stepList.replaceChildren();
      counter.textContent = 'No steps yet';
      for (const b of navButtons) setAvailable(b, false);
      root.dataset.raceStep = '0';
      root.dataset.raceSteps = '0';
      drawVerdict();
      return;
    }
    const cur = cursor.step;
    const last = run.steps.length - 1;
    stepList.replaceChildren(...run.steps.map((s) => stepItem(s, cur, last)));
    counter.textContent = `Step ${cur} of ${last}`;
    const s = run.steps[cur];
    status.textContent = `${stepHeading(s, last)}: ${s.action}`;
    setAvailable(backBtn, !cursor.atStart);
    setAvailable(resetBtn, !cursor.atStart);
    setAvailable(stepBtn, !cursor.atEnd);
    setAvailable(playBtn, !cursor.atEnd || playTimer !== null);
    // A link reopens a recorded run: free-play steps have none.
    setAvailable(copyBtn, !runIsLive);
    const l = runIsLive ? null : link();
    linkInput.value = l ? linkUrl(l) : '';
    copyMsg.textContent = '';
    drawVerdict();
    const d = root.dataset;
    d.raceStep = String(cur);
    d.raceSteps = String(run.steps.length);
    const li = stepList.querySelector<HTMLElement>('[aria-current="step"]');
    if (li) revealStep(li);
  }

  /**
   * Scroll the lane view (not the page) so the current step's top shows
   * below the sticky lane names: a tall step would otherwise be aligned by
   * its bottom, hiding its heading.
   */
  const revealStep = (li: HTMLElement) => {
    const heads = laneHeads.offsetHeight;
    const top = li.offsetTop - heads - 4;
    const view = laneView;
    const hidden = li.offsetTop < view.scrollTop + heads || li.offsetTop + li.offsetHeight > view.scrollTop + view.clientHeight;
    if (hidden) view.scrollTo({ top: Math.max(0, top), behavior: reducedMotion.matches ? 'auto' : 'smooth' });
  };

  const stepItem = (s: RaceStep, cur: number, last: number): HTMLElement => {
    const i = s.index;
    const when = i < cur ? 'past' : i === cur ? 'current' : 'future';
    const col = Math.max(0, lanes.indexOf(s.lane)) + 1;
    const li = h('li', { class: `race-step race-step-${when}`, 'data-step': i, 'data-lane': s.lane });
    li.style.gridColumn = String(col);
    li.style.gridRow = String(i + 1);
    if (when === 'current') li.setAttribute('aria-current', 'step');
    const d = diffs[i];
    li.append(
      h('h4', { class: 'race-step-title' },
        stepHeading(s, last),
        when === 'current' ? h('span', { class: 'race-badge' }, 'current step') : null,
        when === 'future' ? h('span', { class: 'race-badge race-badge-future' }, 'not yet') : null),
      h('p', { class: 'race-action' }, s.action),
      h('p', { class: 'race-parked' }, parkedText(s)),
    );
    if (when === 'future') return li;
    li.append(h('p', { class: 'race-narrative' }, s.narrative));
    if (s.quote) li.append(h('blockquote', { class: 'race-quote' }, s.quote));
    li.append(h('p', { class: 'race-changes' }, diffSummary(d, i === 0)));
    const details = h('details', { class: 'race-snapshot', open: when === 'current' },
      h('summary', {}, `Snapshot after step ${i}`), ...snapshotParts(d, i === 0));
    li.append(details);
    return li;
  };

  const mark = (text: string) => (text ? h('span', { class: 'race-mark' }, text) : null);

  const snapshotParts = (d: SnapshotDiff, first: boolean): HTMLElement[] => {
    const changed = (c: string) => (!first && c !== 'same' ? 'race-changed' : '');
    const sptes = h('ul', { class: 'race-list' },
      ...d.sptes.map((x) => h('li', { class: changed(x.change) },
        h('span', { class: 'race-mono' }, spteText(x.spte)), ' ',
        h('span', { class: 'race-flags' }, ...spteFlagWords(x.spte).map((f) =>
          h('span', { class: `race-flag${(WRITEABLE_FLAGS as readonly string[]).some((w) => f.startsWith(w)) ? ' race-flag-w' : ''}${f.endsWith(' clear') ? ' race-flag-clear' : ''}` }, f))),
        first ? null : mark(spteChangeText(x)))),
      ...d.sptesGone.map((s) => h('li', { class: 'race-changed race-gone' }, `${s.label}: no longer shown`)));
    const dirty = h('ul', { class: 'race-list' },
      ...d.dirty.map((x) => h('li', { class: changed(x.change) }, h('span', { class: 'race-mono' }, dirtyText(x.dirty)),
        first ? null : mark(x.change === 'changed' ? `changed: ${x.fields.join(', ')}` : changeWord(x.change)))),
      ...d.dirtyGone.map((x) => h('li', { class: 'race-changed race-gone' }, `gfn 0x${x.gfn.toString(16)}: no longer shown`)));
    const tlb = h('ul', { class: 'race-list' },
      ...d.tlb.map((x) => h('li', { class: changed(x.change) }, h('span', { class: 'race-mono' }, tlbText(x.entry)),
        first ? null : mark(changeWord(x.change)))),
      ...d.tlbGone.map((e) => h('li', { class: 'race-changed race-gone' }, h('span', { class: 'race-mono' }, tlbText(e)), mark('gone (flushed)'))));
    if (d.tlb.length + d.tlbGone.length === 0) tlb.append(h('li', { class: 'race-none' }, 'no TLB entries'));
    const notes = h('ul', { class: 'race-list' },
      ...d.notes.map((x) => h('li', { class: changed(x.change) }, h('span', { class: 'race-mono' }, noteText(x.key, x.value)),
        first ? null : mark(x.change === 'changed' ? `was ${String(x.before)}` : changeWord(x.change)))),
      ...d.notesGone.map((k) => h('li', { class: 'race-changed race-gone' }, `${k}: gone`)));
    const part = (title: string, list: HTMLElement) => h('div', { class: 'race-part' }, h('h5', {}, title), list);
    return [part('SPTEs', sptes), part('Dirty bits (live / collected / host dirty)', dirty), part('vCPU TLB entries', tlb), part('Notes', notes)];
  };

  const drawVerdict = () => {
    const d = root.dataset;
    if (!run) {
      verdictBox.replaceChildren();
      d.raceVerdict = 'none';
      return;
    }
    if (runIsLive && !liveVerdict) {
      verdictBox.replaceChildren(h('p', { class: 'race-verdict-pending' }, live
        ? 'Free play: press Check verdict now to ask the checkers about the state as it is.'
        : 'Free play ended without a verdict asked since its last step.'));
      d.raceVerdict = 'pending';
      delete d.raceExpected;
      return;
    }
    if (!cursor.atEnd && !runIsLive) {
      verdictBox.replaceChildren(h('p', { class: 'race-verdict-pending' },
        `The checker looks at the final state: the verdict appears at the last step (step ${run.steps.length - 1}).`));
      d.raceVerdict = 'pending';
      delete d.raceExpected;
      return;
    }
    const v = verdictView(run);
    d.raceVerdict = v.outcome;
    d.raceExpected = String(v.expected);
    verdictBox.replaceChildren(h('h4', { class: `race-verdict-head race-${v.outcome}` }, v.headline));
    if (runIsLive) verdictBox.append(h('p', { class: 'race-note' }, `Asked after step ${run.steps.length - 1}, with the lanes as they were then.`));
    if (run.verdict.violations.length) {
      verdictBox.append(h('ul', { class: 'race-violations', 'aria-label': 'Violations' },
        ...run.verdict.violations.map((x) => h('li', {}, x))));
    }
    verdictBox.append(h('p', { class: `race-expect${v.expected ? '' : ' race-unexpected'}` }, v.expectation));
  };

  const drawFreeplay = () => {
    if (!run) return;
    const points = pausePoints(run, lanes);
    // Keep only what this run can stop at.
    for (const k of [...armed]) if (!points.some((p) => pointKey(p.lane, p.point) === k)) armed.delete(k);
    freeplay.hidden = false;
    const legend = h('legend', {}, 'Replay stops (not live): stop the replay only at these pause points');
    if (points.length === 0) {
      freeplay.replaceChildren(legend, h('p', { class: 'race-note' }, 'No lane parks at a pause point in this run.'));
      return;
    }
    freeplay.replaceChildren(legend,
      h('p', { class: 'race-note' },
        'Tick pause points: Step forward, Step back, Play steps and the arrow keys then jump between the steps ' +
        'where a lane parks at a ticked point. ' +
        'The run itself is recorded once on the real workers; this only chooses where the replay stops. ' +
        'To arm points on live lanes, use Free play (live).'),
      ...lanes.filter((l) => points.some((p) => p.lane === l)).map((l) =>
        h('div', { class: 'race-freeplay-lane' }, h('span', { class: 'race-freeplay-lane-name' }, laneName(l)),
          ...points.filter((p) => p.lane === l).map((p) => {
            const box = h('input', { type: 'checkbox', checked: armed.has(pointKey(p.lane, p.point)) });
            box.addEventListener('change', () => {
              if (box.checked) armed.add(pointKey(p.lane, p.point));
              else armed.delete(pointKey(p.lane, p.point));
            });
            return h('label', { class: 'check' }, box, `${p.point} (step ${p.steps.join(', ')})`);
          }))));
  };

  // ── free play, live ──
  const setLive = (phase: 'off' | 'starting' | 'on' | 'acting') => {
    root.dataset.raceLive = phase;
    liveEndBtn.disabled = phase === 'off' || phase === 'starting' || phase === 'acting';
    liveVerdictBtn.disabled = phase !== 'on';
    setState(state);
  };

  /** Redraw the live controls and the lane view from the session and its steps. */
  const drawLive = (focusKey: string | null) => {
    if (!live) {
      liveLanes.replaceChildren();
      return;
    }
    liveLanes.replaceChildren(...liveLaneControls(live, {
      act: (a) => void liveAct(a),
      problem: (t) => {
        liveStatus.textContent = t;
      },
      busy: liveActing,
    }, liveTyped));
    run = liveRun(live, liveSteps, liveVerdict);
    runIsLive = true;
    cursor.load(run.steps.length);
    if (run.steps.length > 0) cursor.goTo(run.steps.length - 1);
    setState(state);
    drawStep();
    if (focusKey) liveLanes.querySelector<HTMLElement>(`[data-live-key="${CSS.escape(focusKey)}"]:not(:disabled)`)?.focus();
  };

  const focusedLiveKey = (): string | null => {
    const el = document.activeElement;
    return el instanceof HTMLElement && liveLanes.contains(el) ? el.dataset.liveKey ?? null : null;
  };

  const startLive = async () => {
    const s = selected();
    if (!api || !s || liveActing || state === 'running') return;
    stopPlay();
    const unsafe = !protection.checked;
    liveActing = true;
    setLive('starting');
    liveStatus.textContent = `Setting up ${s.name} on live lanes, protection ${unsafe ? 'off' : 'on'}…`;
    try {
      const st = await api.raceSessionStart(s.name, unsafe);
      live = st;
      liveSteps = [];
      liveVerdict = null;
      lanes = runLanes(s, liveRun(st, [], null));
      diffs = [];
      armed.clear(); // replay stops do not apply to live steps
      freeplay.hidden = true;
      root.dataset.raceScenario = st.scenario;
      root.dataset.raceUnsafe = String(st.unsafe);
      liveStatus.textContent = `Free play on ${st.scenario} (protection ${st.unsafe ? 'off' : 'on'}): set up, no steps yet. Arm points and issue operations below.`;
      status.textContent = 'Free play (live): the lanes show the steps you make.';
      liveActing = false;
      setLive('on');
      drawLanes();
      drawLive(null);
    } catch (e) {
      liveActing = false;
      live = null;
      setLive('off');
      liveStatus.textContent = `Free play could not start: ${userMessage(e)}`;
    }
  };

  /** One action on the live session; its step joins the lanes. */
  const liveAct = async (a: RaceAction) => {
    if (!api || !live || liveActing) return;
    const key = focusedLiveKey();
    liveActing = true;
    setLive('acting');
    drawLive(null);
    liveStatus.textContent = a.kind === 'arm' ? `Arming ${laneName(a.lane)}…` : `${laneName(a.lane)}: running…`;
    try {
      const r = await api.raceSessionAct(a);
      live = r.session;
      if (r.step) {
        liveSteps.push(r.step);
        diffs.push(diffSnapshots(liveSteps.length > 1 ? liveSteps[liveSteps.length - 2].snapshot : null, r.step.snapshot));
        liveVerdict = null;
        liveStatus.textContent = `Step ${r.step.index}: ${laneName(r.step.lane)}: ${r.step.action}`;
      } else if (a.kind === 'arm') {
        liveStatus.textContent = `${laneName(a.lane)} armed at: ${a.points.length ? a.points.join(', ') : 'nothing'}.`;
      }
    } catch (e) {
      liveStatus.textContent = `Refused: ${userMessage(e)}`;
    }
    liveActing = false;
    if (live) {
      setLive('on');
      drawLive(key);
    }
  };

  const askVerdict = async () => {
    if (!api || !live || liveActing) return;
    liveActing = true;
    setLive('acting');
    try {
      liveVerdict = await api.raceSessionVerdict();
      liveStatus.textContent = 'The checkers looked at the state as it is now: see the verdict below the lanes.';
    } catch (e) {
      liveStatus.textContent = `The verdict failed: ${userMessage(e)}`;
    }
    liveActing = false;
    setLive('on');
    drawLive(null);
  };

  /** End the live session (if any) and leave its steps on screen as they are. */
  async function endLive(why: string): Promise<void> {
    if (!live) return;
    live = null;
    liveActing = false;
    liveLanes.replaceChildren();
    setLive('off');
    if (runIsLive && run) drawStep();
    liveStatus.textContent = why;
    try {
      await api?.raceSessionEnd();
    } catch {
      // the session is gone either way
    }
  }

  // ── running ──
  const startRun = async (fromLink: RaceLink | null) => {
    const s = selected();
    if (!api || !s || liveActing) return;
    stopPlay();
    if (live) await endLive('Free play ended: Run scenario replaced it with a recorded run.');
    const unsafe = !protection.checked;
    setState('running');
    status.textContent = `Running ${s.name} with the protection ${unsafe ? 'off' : 'on'}…`;
    try {
      const r = await api.raceRun(s.name, unsafe);
      run = r;
      runIsLive = false;
      lanes = runLanes(s, r);
      diffs = r.steps.map((st, i) => diffSnapshots(i > 0 ? r.steps[i - 1].snapshot : null, st.snapshot));
      cursor.load(r.steps.length);
      root.dataset.raceScenario = r.scenario;
      root.dataset.raceUnsafe = String(r.unsafe);
      setState('ready');
      drawLanes();
      drawFreeplay();
      if (r.steps.length === 0) {
        status.textContent = 'The run recorded no steps.';
        verdictBox.replaceChildren();
        return;
      }
      let warning: string | null = null;
      if (fromLink) {
        const c = clampLinkStep(fromLink.step, r.steps.length);
        cursor.goTo(c.step);
        warning = c.warning;
      }
      drawStep();
      if (warning) showMessage([...(message.hidden ? [] : [message.textContent ?? '']), warning]);
      void session?.refresh();
    } catch (e) {
      setState('error');
      status.textContent = `The run failed: ${userMessage(e)}`;
    }
  };

  /** Open a link: pick its scenario and setting, run, land on its step. */
  const openLink = async (l: RaceLink, warnings: string[]) => {
    showMessage(warnings);
    picker.value = l.name;
    showInfo();
    protection.checked = !l.unsafe;
    showProtection();
    root.scrollIntoView({ block: 'start' });
    await startRun(l);
    laneView.focus({ preventScroll: true });
  };

  const readFragment = () => {
    const f = parseRaceFragment(location.hash, scenarios.length ? scenarios.map((s) => s.name) : null);
    if (f.kind === 'none') return;
    if (f.kind === 'error') {
      showMessage([f.message]);
      root.scrollIntoView({ block: 'start' });
      return;
    }
    if (!scenarios.length) {
      pendingLink = f.link;
      return;
    }
    if (state === 'running') return;
    void openLink(f.link, f.warnings);
  };

  const loadScenarios = async () => {
    if (!api) {
      status.textContent = 'The race lab needs the VMM worker (cross-origin isolation).';
      return;
    }
    setState('loading');
    try {
      scenarios = await api.raceList();
      picker.replaceChildren(...scenarios.map((s) => h('option', { value: s.name }, `${s.title} (${s.name})`)));
      showInfo();
      setState('idle');
      status.textContent = scenarios.length ? 'Pick a scenario and press Run scenario.' : 'No race scenario is available.';
      if (pendingLink) {
        pendingLink = null;
        readFragment();
      }
    } catch (e) {
      setState('error');
      status.textContent = `The race scenarios could not be listed: ${userMessage(e)}`;
    }
  };

  // ── events ──
  picker.addEventListener('change', showInfo);
  protection.addEventListener('change', () => {
    showProtection();
    if (run && run.unsafe === protection.checked) status.textContent = 'The protection setting changed: press Run scenario to replay with it.';
  });
  runBtn.addEventListener('click', () => {
    showMessage([]);
    void startRun(null);
  });
  resetBtn.addEventListener('click', () => {
    if (!isAvailable(resetBtn)) return;
    stopPlay();
    move(0);
  });
  backBtn.addEventListener('click', () => {
    if (!isAvailable(backBtn)) return;
    stopPlay();
    backward();
  });
  stepBtn.addEventListener('click', () => {
    if (!isAvailable(stepBtn)) return;
    stopPlay();
    forward();
  });
  playBtn.addEventListener('click', () => {
    if (playTimer !== null) stopPlay();
    else if (isAvailable(playBtn)) startPlay();
    if (run) setAvailable(playBtn, !cursor.atEnd || playTimer !== null);
  });
  laneView.addEventListener('keydown', (ev) => {
    if (!run || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    let handled = true;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowRight') forward();
    else if (ev.key === 'ArrowUp' || ev.key === 'ArrowLeft') backward();
    else if (ev.key === 'Home') move(0);
    else if (ev.key === 'End') move(run.steps.length - 1);
    else handled = false;
    if (handled) {
      stopPlay();
      ev.preventDefault();
    }
  });
  copyBtn.addEventListener('click', async () => {
    const l = link();
    if (!l || !isAvailable(copyBtn)) return;
    const url = linkUrl(l);
    linkInput.value = url;
    try {
      await navigator.clipboard.writeText(url);
      copyMsg.textContent = 'Link copied.';
    } catch {
      linkInput.focus();
      linkInput.select();
      copyMsg.textContent = 'Copying was refused: the link is selected, press Ctrl+C (⌘C) to copy it.';
    }
  });
  liveStartBtn.addEventListener('click', () => void startLive());
  liveEndBtn.addEventListener('click', () => void endLive('Free play ended: its lanes are stopped; the steps stay on screen.'));
  liveVerdictBtn.addEventListener('click', () => void askVerdict());
  window.addEventListener('hashchange', readFragment);

  const label = (forId: string, text: string, control: HTMLElement, ...more: (HTMLElement | string)[]) =>
    h('label', { for: forId, class: 'check' }, text, control, ...more);

  registerPanel({
    id: 'race-lab',
    title: 'Race lab (locking.txt, step by step)',
    description: RACE_LAB_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      root.dataset.raceState = 'idle';
      root.dataset.raceVerdict = 'none';
      root.dataset.raceLive = 'off';
      body.append(
        h('div', { class: 'dirty-controls race-controls' },
          label(ids.pick, 'Scenario', picker),
          // The on/off word stays outside the label: the switch's name is "Protection", its state is its own.
          h('span', { class: 'race-prot' }, label(ids.prot, 'Protection', protection), protWord),
          runBtn),
        info,
        status,
        message,
        h('div', { class: 'dirty-controls race-nav', role: 'group', 'aria-label': 'Replay' },
          resetBtn, backBtn, playBtn, stepBtn, counter),
        h('div', { class: 'dirty-controls race-linkbar' },
          label(ids.link, 'Link to this step', linkInput), copyBtn, copyMsg),
        liveBox,
        freeplay,
        help,
        laneView,
        verdictBox,
      );
      showProtection();
      setState('idle');
      void loadScenarios();
      readFragment();
    },
    draw() {
      // Nothing live: a run is recorded once, then replayed from memory.
    },
  });
}
