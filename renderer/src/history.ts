import type { UiHistoryEntry } from '../../client/desktop/api.ts';
import { api, bindStatus, el } from './api.ts';
import { formatTime, isOpenableUrl, priorityLabel } from './format.ts';

function entryNode(entry: UiHistoryEntry, now: number): HTMLElement {
  if (entry.kind === 'gap') {
    return el('li', { class: 'entry gap', attrs: { 'data-kind': 'gap' } }, [
      el('span', { class: 'time', text: formatTime(entry.at, now) }),
      el('span', { class: 'gap-text', text: entry.message }),
    ]);
  }
  const { alarm } = entry;
  const linked = isOpenableUrl(alarm.url);
  const item = el(
    'li',
    { class: `entry p${alarm.priority}${linked ? ' linked' : ''}`, attrs: { 'data-id': alarm.id } },
    [
      el('span', {
        class: 'priority',
        text: priorityLabel(alarm.priority),
        attrs: { title: `priority ${alarm.priority}` },
      }),
      el('div', { class: 'content' }, [
        el('div', { class: 'title', text: alarm.title }),
        alarm.body !== undefined ? el('div', { class: 'body', text: alarm.body }) : null,
        el('div', { class: 'meta' }, [
          alarm.topic !== undefined ? el('span', { class: 'topic', text: `#${alarm.topic}` }) : null,
          ...alarm.tags.map((tag) => el('span', { class: 'tag', text: tag })),
        ]),
      ]),
      el('span', {
        class: 'time',
        text: formatTime(alarm.time, now),
        attrs: { title: new Date(alarm.time).toISOString() },
      }),
    ],
  );
  if (linked) {
    item.tabIndex = 0;
    item.setAttribute('role', 'link');
    const open = () => void api.openAlarm(alarm.id);
    item.addEventListener('click', open);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') open();
    });
  }
  return item;
}

function render(root: HTMLElement, entries: UiHistoryEntry[]): void {
  const now = Date.now();
  root.replaceChildren(
    el('h1', { text: 'Alarm history' }),
    entries.length === 0
      ? el('p', { class: 'empty', text: 'No alarms yet. They will appear here, newest first.' })
      : el(
          'ol',
          { class: 'history', attrs: { id: 'history' } },
          entries.map((entry) => entryNode(entry, now)),
        ),
  );
}

const root = document.getElementById('app') as HTMLElement;
bindStatus();
void api.getHistory().then((entries) => render(root, entries));
api.onHistory((entries) => render(root, entries));
