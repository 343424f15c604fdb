// Page entry: build the shell, connect it to the VMM worker, start drawing.
//
// Order matters only in one place: the isolation check comes first, because
// without SharedArrayBuffer no VM can exist and the VMM worker is not started.
import './ui/styles.css';
import { createAnnouncer } from './ui/announcer.ts';
import { createAsmEditor } from './ui/asm-editor.ts';
import { createConsole } from './ui/console.ts';
import { byId } from './ui/dom.ts';
import { createElfUpload } from './ui/elf-upload.ts';
import { startFrameLoop } from './ui/frame-loop.ts';
import { isCrossOriginIsolated, renderIsolationBanner } from './ui/isolation.ts';
import { createMachineConfig } from './ui/machine-config.ts';
import { createMipsMeter } from './ui/mips-meter.ts';
import { panelHost as panels } from './ui/panel.ts';
import { registerDirtyMapPanel } from './ui/panels/dirty-map.ts';
import { registerHostMemoryPanel } from './ui/panels/host-memory.ts';
import { registerMmuExplorerPanel } from './ui/panels/mmu-explorer.ts';
import { registerFaultChartPanel } from './ui/panels/fault-chart.ts';
import { registerLocksPanel } from './ui/panels/locks.ts';
import { registerDocVsCodePanel } from './ui/panels/doc-vs-code.ts';
import { registerTlbTimelinePanel } from './ui/panels/tlb-timeline.ts';
import { registerTorturePanel } from './ui/panels/torture.ts';
import { registerRaceLabPanel } from './ui/panels/race-lab.ts';
import { createProgramPicker } from './ui/program-picker.ts';
import { createRegisters } from './ui/registers.ts';
import { createRunControls } from './ui/run-controls.ts';
import { Session } from './ui/session.ts';
import { createStatusLine, describeState } from './ui/status-line.ts';
import { createVmmClient } from './ui/vmm-client.ts';

const isolated = isCrossOriginIsolated();
document.body.dataset.isolated = String(isolated);
byId('isolation-indicator').textContent = isolated ? 'cross-origin isolated' : 'not isolated';
byId('isolation-indicator').dataset.ok = String(isolated);
if (!isolated) renderIsolationBanner(byId('banner'));

const client = isolated ? createVmmClient() : null;

// The picker is created after the session, but Run needs its selection lazily.
let selectedProgram: () => ReturnType<ReturnType<typeof createProgramPicker>['selected']> = () => null;
const machine = createMachineConfig(byId('machine'));
const session = new Session(client?.api ?? null, () => machine.read(), () => selectedProgram());
client?.onFatal((msg) => session.fail(msg));

const picker = createProgramPicker(byId('guest-picker'), session, (g) => machine.setVcpus(g.vcpus));
selectedProgram = () => picker.selected();
createElfUpload(byId('elf-upload'), session);
createAsmEditor(byId('asm-editor'), session);

const controls = createRunControls(byId('run-controls'), session);
const showStatus = createStatusLine(byId('status'));
const consoleView = createConsole(byId('console'));
consoleView.setFallbackInput((bytes) => session.consoleInput(bytes));
const meter = createMipsMeter(byId('meter'));
const registers = createRegisters(byId('registers'), session, () => controls.stepVcpu());
controls.onStepVcpuChange(() => registers.refresh());
const announcer = createAnnouncer(document.body);
byId('panel-list').append(panels.element);
registerDirtyMapPanel(client?.api ?? null, session);
registerHostMemoryPanel(client?.api ?? null, session);
registerMmuExplorerPanel(client?.api ?? null, session);
// The Torture panel builds its own VM: the machine's vCPU count, then the dirty guest.
registerTorturePanel(client?.api ?? null, session, (vcpus) => {
  machine.setVcpus(vcpus);
  return session.load({ kind: 'guest', name: 'dirty' });
});
registerTlbTimelinePanel();
registerFaultChartPanel();
registerLocksPanel();
registerDocVsCodePanel();
// The race lab: one raceRun call per run; a #race=... link opens it at a step.
registerRaceLabPanel(client?.api ?? null, session);

let spokenState = '';
session.subscribe((s) => {
  showStatus(s);
  const key = `${s.vm}|${s.error?.text ?? ''}`;
  if (key !== spokenState && !s.busy) {
    spokenState = key;
    announcer.say(s.error ? `${describeState(s)} ${s.error.text}` : describeState(s));
  }
});

startFrameLoop({ session, console: consoleView, meter, panels, announcer, liveView: () => controls.liveView });

document.body.dataset.appReady = 'true';
