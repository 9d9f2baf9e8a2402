// Analytics (admin role): the measures of docs/metrics.md from GET /api/analytics/report, drawn as
// plain SVG. Text goes in through textContent only (el() from dom.js, and svg() below, which has no
// way to set markup either).

import { el, uid } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const COLORS = { fcr: '#1f5fbf', containment: '#137333', wait: '#b06000', response: '#7b3fb5', bar: '#1f5fbf', esc: '#b42318' };

/** svg('rect', {x: 1, ...}, [children]) -> an SVG element; strings among children become text nodes. */
function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const pct = (value) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`);
const secs = (value) => (value === null || value === undefined ? '–' : value >= 120 ? `${(value / 60).toFixed(1)} min` : `${Math.round(value)} s`);

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** A line chart of several series over days; null values leave gaps. */
function lineChart({ title, days, series, format, max }) {
  const width = 640;
  const height = 220;
  const pad = { left: 48, right: 12, top: 12, bottom: 30 };
  const values = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const top = max !== undefined ? max : Math.max(1, ...values) * 1.1;
  const x = (i) => pad.left + (days.length <= 1 ? 0 : (i * (width - pad.left - pad.right)) / (days.length - 1));
  const y = (v) => pad.top + (1 - v / top) * (height - pad.top - pad.bottom);
  const titleId = uid('nc-chart');
  const parts = [svg('title', { id: titleId }, title)];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const v = top * tick;
    parts.push(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'nc-grid' }));
    parts.push(svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'nc-axis' }, format(v)));
  }
  const step = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((day, i) => {
    if (i % step === 0) parts.push(svg('text', { x: x(i), y: height - 8, 'text-anchor': 'middle', class: 'nc-axis' }, day.slice(5)));
  });
  for (const s of series) {
    let path = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      pen = true;
    });
    parts.push(svg('path', { d: path.trim(), fill: 'none', stroke: s.color, 'stroke-width': 2, class: 'nc-series', 'data-series': s.key }));
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      parts.push(
        svg('circle', { cx: x(i), cy: y(v), r: 3, fill: s.color, 'data-series': s.key, 'data-day': days[i] }, [
          svg('title', {}, `${s.label} ${days[i]}: ${format(v)}${s.counts ? ` (n=${s.counts[i]})` : ''}`),
        ]),
      );
    });
  }
  const legend = el(
    'ul',
    { class: 'nc-legend' },
    series.map((s) => el('li', {}, [el('span', { class: 'nc-swatch', attrs: { style: `background:${s.color}` } }), s.label])),
  );
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'nc-chart-svg' }, parts);
  return el('figure', { class: 'nc-chart' }, [el('figcaption', { class: 'nc-chart-title', text: title }), chart, legend]);
}

/** Horizontal bars with a label and the count behind each value. */
function barChart({ title, items, format, max, color, chartClass }) {
  const width = 640;
  const row = 24;
  const labelWidth = 190;
  const height = Math.max(row, items.length * row) + 8;
  const top = max !== undefined ? max : Math.max(1, ...items.map((item) => item.value || 0));
  const titleId = uid('nc-chart');
  const parts = [svg('title', { id: titleId }, title)];
  items.forEach((item, i) => {
    const y = 4 + i * row;
    const barWidth = item.value === null ? 0 : ((width - labelWidth - 110) * item.value) / top;
    parts.push(svg('text', { x: labelWidth - 8, y: y + 16, 'text-anchor': 'end', class: 'nc-axis' }, item.label));
    parts.push(
      svg('rect', { x: labelWidth, y: y + 3, width: Math.max(0, barWidth).toFixed(1), height: row - 8, fill: color, class: 'nc-bar', 'data-key': item.label }, [
        svg('title', {}, `${item.label}: ${format(item.value)} (n=${item.n})`),
      ]),
    );
    parts.push(svg('text', { x: labelWidth + barWidth + 6, y: y + 16, class: 'nc-value' }, `${format(item.value)} (n=${item.n})`));
  });
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'nc-chart-svg' }, parts);
  return el('figure', { class: ['nc-chart', chartClass] }, [el('figcaption', { class: 'nc-chart-title', text: title }), chart]);
}

function card(label, value, n, key) {
  return el('div', { class: 'nc-kpi', attrs: { 'data-kpi': key } }, [
    el('span', { class: 'nc-kpi-label', text: label }),
    el('strong', { class: 'nc-kpi-value', text: value }),
    el('span', { class: 'nc-kpi-n', text: `n = ${n}` }),
  ]);
}

export function analyticsView(getToken) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  const fromId = uid('nc-from');
  const toId = uid('nc-to');
  const windowId = uid('nc-window');
  const from = el('input', { class: 'nc-input', attrs: { id: fromId, type: 'date', value: isoDay(monthAgo) } });
  const to = el('input', { class: 'nc-input', attrs: { id: toId, type: 'date', value: isoDay(today) } });
  const windowDays = el('input', { class: 'nc-input nc-input--short', attrs: { id: windowId, type: 'number', min: 1, max: 365, value: 7 } });
  const status = el('p', { class: 'nc-note', attrs: { role: 'status' } });
  const body = el('div', { class: 'nc-analytics-body' });
  const refresh = el('button', { class: 'nc-btn nc-btn--primary', text: 'Show', attrs: { type: 'submit' } });
  const form = el(
    'form',
    {
      class: 'nc-analytics-form',
      on: {
        submit: (event) => {
          event.preventDefault();
          load();
        },
      },
    },
    [
      el('label', { class: 'nc-label', text: 'From', attrs: { for: fromId } }),
      from,
      el('label', { class: 'nc-label', text: 'To', attrs: { for: toId } }),
      to,
      el('label', { class: 'nc-label', text: 'FCR window (days)', attrs: { for: windowId } }),
      windowDays,
      refresh,
    ],
  );
  const node = el('section', { class: 'nc-analytics', attrs: { 'aria-labelledby': 'nc-analytics-title', hidden: true } }, [
    el('header', { class: 'nc-pane-head' }, [el('h2', { class: 'nc-pane-title', text: 'Analytics', attrs: { id: 'nc-analytics-title' } }), form]),
    status,
    body,
  ]);

  async function load() {
    status.textContent = 'Loading…';
    refresh.disabled = true;
    const query = new URLSearchParams({ from: from.value, to: to.value, window: windowDays.value || '7' });
    try {
      const response = await fetch(`/api/analytics/report?${query}`, { headers: { Authorization: `Bearer ${getToken()}` } });
      let data = {};
      try {
        data = await response.json();
      } catch {
        /* not JSON: the status says enough */
      }
      if (!response.ok) throw new Error(data.message || `HTTP ${response.status}`);
      render(data);
      status.textContent = `Conversations started ${data.from} to ${data.to} (UTC); FCR window ${data.window_days} days. n = the number each figure is computed from.`;
    } catch (err) {
      body.replaceChildren();
      status.textContent = `Could not load analytics: ${err.message}`;
    } finally {
      refresh.disabled = false;
    }
  }

  function render(data) {
    const rows = data.rows || [];
    const pick = (dimension) => rows.filter((r) => r.dimension === dimension);
    const all = pick('all')[0];
    if (!all || !all.conversations) {
      body.replaceChildren(el('p', { class: 'nc-placeholder', text: 'No conversations in this period.' }));
      return;
    }
    // every day of the range on the x axis (days without conversations are gaps, not squeezed out)
    const byDay = new Map(pick('day').map((r) => [r.key, r]));
    const dayKeys = [];
    for (let t = Date.parse(`${data.from}T00:00:00Z`); t <= Date.parse(`${data.to}T00:00:00Z`); t += 86400000) {
      dayKeys.push(isoDay(new Date(t)));
    }
    const days = dayKeys.map((key) => byDay.get(key) || {});
    const kpis = el('div', { class: 'nc-kpis' }, [
      card('Conversations', String(all.conversations), all.conversations, 'conversations'),
      card('FCR', pct(all.fcr), all.fcr_eligible, 'fcr'),
      card('Survey FCR', pct(all.survey_fcr), all.survey_answered, 'survey_fcr'),
      card('Bot containment', pct(all.containment), all.ended, 'containment'),
      card('Escalated', pct(all.escalation_rate), all.conversations, 'escalation_rate'),
      card('Abandoned in queue', pct(all.abandonment_rate), all.escalated, 'abandonment_rate'),
      card('Queue wait (median)', secs(all.queue_wait_median), all.queue_wait_n, 'queue_wait'),
      card('First response (median)', secs(all.first_response_median), all.first_response_n, 'first_response'),
      card('CSAT (4–5)', pct(all.csat), all.rated, 'csat'),
      card('Repeat contacts', pct(all.repeat_rate), all.fcr_eligible, 'repeat_rate'),
    ]);
    const perTopic = pick('topic')
      .filter((r) => r.fcr_eligible > 0)
      .sort((a, b) => b.fcr_eligible - a.fcr_eligible)
      .slice(0, 12);
    const escalations = new Map();
    for (const item of data.escalation_reasons || []) escalations.set(item.topic, (escalations.get(item.topic) || 0) + item.escalations);
    const topEscalations = [...escalations.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    body.replaceChildren(
      kpis,
      lineChart({
        title: 'FCR and bot containment per day',
        days: dayKeys,
        max: 1,
        format: (v) => `${Math.round(v * 100)}%`,
        series: [
          { key: 'fcr', label: 'FCR', color: COLORS.fcr, values: days.map((r) => r.fcr), counts: days.map((r) => r.fcr_eligible) },
          { key: 'containment', label: 'Bot containment', color: COLORS.containment, values: days.map((r) => r.containment), counts: days.map((r) => r.ended) },
        ],
      }),
      barChart({
        title: 'FCR per language',
        chartClass: 'nc-chart--language',
        items: pick('language').map((r) => ({ label: r.key, value: r.fcr, n: r.fcr_eligible })),
        format: pct,
        max: 1,
        color: COLORS.bar,
      }),
      barChart({
        title: 'FCR per FAQ topic (most frequent topics)',
        chartClass: 'nc-chart--topic',
        items: perTopic.map((r) => ({ label: r.key, value: r.fcr, n: r.fcr_eligible })),
        format: pct,
        max: 1,
        color: COLORS.bar,
      }),
      barChart({
        title: 'Topics that most often escalate: what to add to the FAQ next',
        chartClass: 'nc-chart--escalations',
        items: topEscalations.map(([topic, count]) => ({ label: topic, value: count, n: count })),
        format: (v) => String(v),
        color: COLORS.esc,
      }),
      lineChart({
        title: 'Queue wait and agent first response per day (median)',
        days: dayKeys,
        format: secs,
        series: [
          { key: 'queue_wait', label: 'Queue wait', color: COLORS.wait, values: days.map((r) => r.queue_wait_median), counts: days.map((r) => r.queue_wait_n) },
          { key: 'first_response', label: 'First response', color: COLORS.response, values: days.map((r) => r.first_response_median), counts: days.map((r) => r.first_response_n) },
        ],
      }),
    );
  }

  return {
    node,
    show(visible) {
      const wasHidden = node.hidden;
      node.hidden = !visible;
      if (visible && wasHidden) load();
    },
    setRange(start, end) {
      from.value = start;
      to.value = end;
    },
  };
}
