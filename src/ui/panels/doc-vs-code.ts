// The "locking.txt vs the code" panel: a static table of where the 3.6
// document and the 3.6 code differ and which one webkvm follows
// (src/ui/doc-vs-code.ts holds the rows). Text only, built with textContent.
import { h } from '../dom.ts';
import { DOC_VS_CODE } from '../doc-vs-code.ts';
import { registerPanel } from '../panel.ts';

function table(): HTMLTableElement {
  const head = h('tr', {}, ...['Rule', 'locking.txt says', 'the 3.6 code does', 'webkvm', 'watch it in'].map((t) => h('th', { scope: 'col' }, t)));
  const rows = DOC_VS_CODE.map((r) =>
    h('tr', {}, h('th', { scope: 'row' }, r.topic), h('td', {}, r.doc), h('td', {}, r.code), h('td', {}, r.webkvm), h('td', {}, r.see)));
  return h('table', { class: 'doc-vs-code', 'data-rows': String(rows.length) }, h('thead', {}, head), h('tbody', {}, ...rows));
}

export function registerDocVsCodePanel(): void {
  registerPanel({
    id: 'doc-vs-code',
    title: 'locking.txt vs the 3.6 code',
    description: 'Where Documentation/virtual/kvm/locking.txt and the code it describes disagree, and which one webkvm follows.',
    mount(body) {
      body.append(table());
    },
    draw() {},
  });
}
