// The header's status and alert controls: my status (online / away / busy), and which alerts I get
// (sound, desktop notification, count in the tab title). The latest alert is also announced in a
// status line for screen readers and anyone looking.

import { el, uid } from './dom.js';

export const STATUSES = [
  { code: 'online', label: 'Online' },
  { code: 'away', label: 'Away' },
  { code: 'busy', label: 'Busy' },
];

const ALERT_OPTIONS = [
  ['sound', 'Sound'],
  ['desktop', 'Desktop notifications'],
  ['title', 'Count in the tab title'],
];

export function statusView(alerts, actions) {
  const selectId = uid('nc-status');
  const select = el(
    'select',
    { class: 'nc-input nc-status-select', attrs: { id: selectId }, on: { change: () => actions.setStatus(select.value, false) } },
    STATUSES.map((s) => el('option', { text: s.label, attrs: { value: s.code } })),
  );
  const checks = ALERT_OPTIONS.map(([key, label]) => {
    const box = el('input', { attrs: { type: 'checkbox' }, on: { change: () => alerts.set(key, box.checked) } });
    box.checked = Boolean(alerts.settings[key]);
    return el('label', { class: 'nc-check' }, [box, ` ${label}`]);
  });
  const log = el('span', { class: 'nc-alert-log', attrs: { role: 'status', 'aria-live': 'polite' } });
  alerts.log = log;
  const node = el('div', { class: 'nc-status-tools' }, [
    el('label', { class: 'nc-label nc-status-label', text: 'Status', attrs: { for: selectId } }),
    select,
    el('details', { class: 'nc-alert-settings' }, [el('summary', { text: 'Alerts' }), el('div', { class: 'nc-alert-options', attrs: { role: 'group', 'aria-label': 'Alerts' } }, checks)]),
    log,
  ]);
  return {
    node,
    setStatus(status) {
      select.value = status;
      node.dataset.status = status;
    },
  };
}
