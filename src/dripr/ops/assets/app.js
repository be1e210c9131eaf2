// dripr ops dashboard: vanilla JS, no build step, no dependencies. Every value from the
// server is put into the page with textContent / attributes (never parsed as HTML), so ids,
// addresses and message bodies always render as text. API: docs/operations.md "Dashboard".
'use strict';

const STATUSES = ['DORMANT', 'WAITING_FOR_DATA', 'WAITING_FOR_HOME_ANALYSIS', 'READY_TO_CREATE_EMAIL',
  'FETCHING', 'WAITING_FOR_MANUAL_APPROVAL', 'READY_TO_SEND_EMAIL', 'UNSUBSCRIBED', 'ERROR'];
const POLL_MS = 2000;
const HISTORY_MS = 30 * 60 * 1000;  // the chart's span (the server keeps as much: /api/history)
const samples = [];  // this page's overview polls: {t (server time), counts, metrics}
let history = [];    // the server's samples from before the page opened: {t, counts}
let timer = null;
let renderToken = 0;  // a page render started later wins

// ---- DOM helpers (text only) ----
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const svgNs = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}
const main = () => document.getElementById('main');
function setMain(...nodes) { main().replaceChildren(...nodes.flat()); }
function num(v) { return v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US'); }
function fixed(v, d) { return v === null || v === undefined || !isFinite(v) ? '–' : Number(v).toFixed(d); }
function money(v) { return v === null || v === undefined ? '–' : '$' + Math.round(v).toLocaleString('en-US'); }
function age(s) {
  if (s === null || s === undefined) return '–';
  s = Math.max(0, Math.floor(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
}
function statusBadge(s) { return el('span', {class: 'status ' + s, text: s}); }
function campaignLink(id) {
  return el('a', {href: '/campaigns/' + encodeURIComponent(id), 'data-link': true, text: id});
}
function notice(text, isError) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.className = isError ? 'notice error' : 'notice';
  n.hidden = !text;
}

// ---- API ----
async function api(path, method) {
  const headers = {'Accept': 'application/json'};
  if (method === 'POST') headers['X-Dripr-Token'] = sessionStorage.getItem('dripr-token') || 'none';
  let res;
  try {
    res = await fetch(path, {method: method || 'GET', headers, cache: 'no-store'});
  } catch (e) {
    throw new Error('the data fetcher does not answer (' + e.message + ')');
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || ('HTTP ' + res.status));
    err.status = res.status;
    throw err;
  }
  return body;
}

// ---- dialogs ----
function confirmAction(text, detail) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  const pre = document.getElementById('confirm-detail');
  pre.textContent = detail || '';
  pre.hidden = !detail;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), {once: true});
    d.returnValue = 'cancel';
    d.showModal();
    document.getElementById('confirm-ok').focus();
  });
}
function askToken() {
  const d = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  input.value = sessionStorage.getItem('dripr-token') || '';
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      if (d.returnValue === 'ok') sessionStorage.setItem('dripr-token', input.value);
      resolve(d.returnValue === 'ok');
    }, {once: true});
    d.returnValue = 'cancel';
    d.showModal();
  });
}
// Runs a POST after confirmation; a 401 asks for the token once and tries again.
async function act(question, detail, path) {
  if (!await confirmAction(question, detail)) return null;
  try {
    return await api(path, 'POST');
  } catch (e) {
    if (e.status === 401 && await askToken()) {
      try { return await api(path, 'POST'); } catch (e2) { notice('Refused: ' + e2.message, true); return null; }
    }
    notice((e.status === 401 || e.status === 403 ? 'Refused: ' : 'Failed: ') + e.message, true);
    return null;
  }
}

// ---- overview ----
function sumSamples(samples, pred) {
  return (samples || []).filter((s) => !pred || pred(s.labels)).reduce((a, s) => a + s.value, 0);
}
function rate(key, pred, family) {
  if (samples.length < 2) return null;
  const a = samples[Math.max(0, samples.length - 6)], b = samples[samples.length - 1];
  const dt = (b.t - a.t) / 1000;
  if (dt <= 0) return null;
  return (sumSamples(b.metrics[family], pred) - sumSamples(a.metrics[family], pred)) / dt;
}
// The chart's points: the server's history up to this page's first poll, then the polls.
function chartPoints() {
  const first = samples.length ? samples[0].t : Infinity;
  const last = samples.length ? samples[samples.length - 1].t : Date.now();
  return history.filter((p) => p.t < first && p.t >= last - HISTORY_MS).concat(samples);
}
// A line per status over the chart's points; labels stay outside the SVG (it stretches).
function chart(series) {
  const w = 600, h = 150, pad = 4;
  const points = chartPoints();
  const fromServer = points.length - samples.length;
  const s = svg('svg', {class: 'chart', viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': 'Campaigns by status over the last minutes', 'data-server-samples': fromServer});
  if (points.length < 2) return el('p', {class: 'muted chart-wait', text: 'collecting samples…'});
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  let max = 1;
  for (const p of points) for (const k of series) max = Math.max(max, p.counts[k] || 0);
  const x = (t) => pad + (w - 2 * pad) * (t - t0) / Math.max(1, t1 - t0);
  const y = (v) => h - pad - (h - 2 * pad) * v / max;
  s.append(svg('line', {x1: 0, y1: h - pad, x2: w, y2: h - pad, stroke: 'currentColor',
    'stroke-opacity': .2, 'vector-effect': 'non-scaling-stroke'}));
  series.forEach((k) => {
    const pts = points.map((p) => x(p.t).toFixed(1) + ',' + y(p.counts[k] || 0).toFixed(1)).join(' ');
    s.append(svg('polyline', {points: pts, fill: 'none', 'stroke-width': 2,
      'vector-effect': 'non-scaling-stroke', class: 'c' + STATUSES.indexOf(k)}));
  });
  return el('div', {}, el('div', {class: 'legend'}, el('span', {text: 'max ' + num(max)}),
    el('span', {text: 'last ' + age((t1 - t0) / 1000)})), s);
}
// The reconciler's last pass, in words.
function reconcilerText(r) {
  if (!r || !r.enabled) return 'off in this fetcher';
  const p = r.last_pass;
  if (!p) return 'no pass yet (one every ' + r.interval_seconds + 's)';
  const when = age(p.age_seconds) + ' ago';
  if (!p.ok) return when + ': failed: ' + p.error;
  if (!p.acted) return when + ': another fetcher holds the reconciler lease (see its dashboard)';
  const a = p.actions;
  return when + ': looked at ' + num(p.looked_at) + ', republished ' + num(a.republish) +
    ', failed ' + num(a.fail_stuck) + ', restarted ' + num(a.restart) +
    (p.lease_lost ? ' (lease lost mid-pass)' : '');
}
const NO_OLDEST = 'SQS does not report the age of the oldest message: see CloudWatch ' +
  'ApproximateAgeOfOldestMessage (the deploy template alarms on it)';
function oldestCell(v, col) {
  return el('td', {class: 'num', 'data-col': col, title: v === null ? NO_OLDEST : null,
    text: v === null ? '—' : age(v)});
}
function renderOverview(o) {
  const now = Date.parse(o.time) || Date.now();  // server time, as the history's
  samples.push({t: now, counts: o.campaigns_by_status, metrics: o.metrics});
  while (samples.length && samples[0].t < now - HISTORY_MS) samples.shift();
  const banner = document.getElementById('banner');
  const failing = Object.entries(o.failing || {});
  banner.hidden = o.ready;
  banner.textContent = o.ready ? '' : 'Not ready (/readyz fails): ' +
    failing.map(([k, v]) => k + ': ' + v).join('; ');
  const total = STATUSES.reduce((a, k) => a + (o.campaigns_by_status[k] || 0), 0);
  const cards = el('div', {class: 'cards', id: 'status-cards'},
    el('div', {class: 'card'}, el('div', {class: 'n', 'data-count': 'TOTAL', text: num(total)}),
      el('div', {class: 'l', text: 'campaigns'})),
    STATUSES.map((k) => el('a', {class: 'card', href: '/campaigns?status=' + k, 'data-link': true},
      el('div', {class: 'n', 'data-count': k, text: num(o.campaigns_by_status[k] || 0)}),
      el('div', {class: 'l', text: k.replaceAll('_', ' ')}))));
  const shown = STATUSES.filter((k) => chartPoints().some((p) => (p.counts[k] || 0) > 0));
  const legend = el('div', {class: 'legend'}, shown.map((k) =>
    el('span', {}, el('i', {class: 'c' + STATUSES.indexOf(k)}), k)));
  const handled = o.metrics.dripr_messages_handled_total;
  const outcomes = ['done', 'retry', 'failure'];
  const readyPerMin = samples.length > 1 ? (() => {
    const a = samples.find((p) => p.t >= now - 60000) || samples[0], b = samples[samples.length - 1];
    const dt = (b.t - a.t) / 60000;
    return dt > 0 ? ((b.counts.READY_TO_CREATE_EMAIL || 0) - (a.counts.READY_TO_CREATE_EMAIL || 0)) / dt : null;
  })() : null;
  const reqRate = rate('p', null, 'dripr_provider_requests_total');
  const errRate = rate('p', (l) => l.code !== '200' && l.code !== '404', 'dripr_provider_requests_total');
  const thr = el('div', {class: 'cards'},
    el('div', {class: 'card'}, el('div', {class: 'n', text: fixed(readyPerMin, 1)}),
      el('div', {class: 'l', text: 'campaigns ready / min'})),
    outcomes.map((oc) => el('div', {class: 'card'},
      el('div', {class: 'n', 'data-rate': oc, text: fixed(rate(oc, (l) => l.outcome === oc, 'dripr_messages_handled_total'), 1)}),
      el('div', {class: 'l', text: 'messages ' + oc + ' / s (total ' + num(sumSamples(handled, (l) => l.outcome === oc)) + ')'}))),
    el('div', {class: 'card'}, el('div', {class: 'n', text: fixed(reqRate, 1)}),
      el('div', {class: 'l', text: 'provider requests / s'})),
    el('div', {class: 'card'}, el('div', {class: 'n',
      text: reqRate ? fixed(100 * errRate / reqRate, 1) + '%' : '–'}),
      el('div', {class: 'l', text: 'provider error rate'})));
  const queues = el('div', {class: 'panel scroll'}, el('table', {id: 'queues-table'},
    el('thead', {}, el('tr', {}, ['queue', 'visible', 'in flight', 'delayed', 'oldest', 'dlq', 'dlq oldest'].map((h, i) =>
      el('th', {class: i ? 'num' : null, scope: 'col', text: h})))),
    el('tbody', {}, o.queues.map((q) => el('tr', {'data-part': q.part},
      el('td', {}, q.part, el('div', {class: 'muted hide-narrow', text: q.queue})),
      el('td', {class: 'num', 'data-col': 'visible', text: num(q.visible)}),
      el('td', {class: 'num', 'data-col': 'in-flight', text: num(q.in_flight)}),
      el('td', {class: 'num', 'data-col': 'delayed', text: num(q.delayed)}),
      oldestCell(q.oldest_age_seconds, 'oldest'),
      el('td', {class: 'num' + (q.dlq_visible ? ' err' : ''), 'data-col': 'dlq',
        title: q.dlq_in_flight ? num(q.dlq_in_flight) + ' more being read or redriven' : null, text: num(q.dlq_visible)}),
      oldestCell(q.dlq_oldest_age_seconds, 'dlq-oldest'))))));
  const actions = o.metrics.dripr_reconciler_actions_total || [];
  const misc = el('div', {class: 'panel'}, el('dl', {class: 'kv'},
    el('dt', {text: 'outbox backlog'}), el('dd', {id: 'outbox-backlog', text: num(o.outbox.unpublished) +
      (o.outbox.oldest_age_seconds !== null ? ' (oldest ' + age(o.outbox.oldest_age_seconds) + ')' : '')}),
    el('dt', {text: 'fetchers alive'}), el('dd', {text: num(o.fetchers.alive)}),
    el('dt', {text: 'events published'}), el('dd', {text: num(sumSamples(o.metrics.dripr_events_published_total))}),
    el('dt', {text: 'reconciler last pass'}), el('dd', {id: 'reconciler-last', text: reconcilerText(o.reconciler)}),
    el('dt', {text: 'reconciler actions'}), el('dd', {text: actions.length ?
      actions.map((a) => a.labels.action + ' ' + num(a.value)).join(', ') : 'none yet'}),
    el('dt', {text: 'updated'}), el('dd', {text: new Date(o.time).toLocaleTimeString()})));
  setMain(el('h1', {text: 'Overview'}), cards,
    el('h2', {text: 'Campaigns by status'}), el('div', {class: 'panel'}, chart(shown), legend),
    el('h2', {text: 'Throughput'}), thr,
    el('h2', {text: 'Queues'}), queues,
    el('h2', {text: 'Pipeline'}), misc);
}
async function overviewPage(token) {
  document.title = 'Overview · dripr';
  // The chart starts from the server's samples, then this page's polls extend it.
  try {
    const h = await api('/api/history');
    history = h.samples.map((p) => ({t: Date.parse(p.time), counts: p.counts}));
  } catch (e) {
    history = [];  // the chart then starts with this page's polls
  }
  if (token !== renderToken) return;
  const tick = async () => {
    try {
      const o = await api('/api/overview');
      if (token !== renderToken) return;
      renderOverview(o);
      notice('');
    } catch (e) {
      if (token === renderToken) notice('Overview: ' + e.message, true);
    }
    if (token === renderToken) timer = setTimeout(tick, POLL_MS);
  };
  await tick();
}

// ---- campaigns ----
async function campaignsPage(token) {
  document.title = 'Campaigns · dripr';
  const params = new URLSearchParams(location.search);
  const status = params.get('status') || '', q = params.get('q') || '', after = params.get('after') || '';
  const prev = (params.get('prev') || '').split('\n').filter((x, i, a) => a.length > 1 || x !== '');
  const go = (p) => navigate('/campaigns?' + new URLSearchParams(p).toString());
  const select = el('select', {id: 'status-filter', onchange: () => go({status: select.value, q: input.value})},
    el('option', {value: '', text: 'all statuses'}),
    STATUSES.map((s) => el('option', {value: s, selected: s === status, text: s})));
  const input = el('input', {id: 'search', type: 'search', value: q, placeholder: 'id prefix or zip', maxlength: 64});
  const form = el('form', {class: 'toolbar', role: 'search', onsubmit: (e) => {
    e.preventDefault(); go({status: select.value, q: input.value});
  }}, el('div', {}, el('label', {for: 'status-filter', text: 'Status'}), select),
  el('div', {}, el('label', {for: 'search', text: 'Search'}), input),
  el('button', {type: 'submit', text: 'Search'}));
  setMain(el('h1', {text: 'Campaigns'}), form, el('p', {class: 'muted', text: 'Loading…'}));
  let page;
  try {
    page = await api('/api/campaigns?' + new URLSearchParams({status, q, after}).toString());
  } catch (e) {
    if (token === renderToken) setMain(el('h1', {text: 'Campaigns'}), form, el('p', {class: 'err', text: e.message}));
    return;
  }
  if (token !== renderToken) return;
  const table = el('div', {class: 'panel scroll'}, el('table', {id: 'campaigns-table'},
    el('thead', {}, el('tr', {}, ['id', 'status', 'zip', 'parts (market / listings / sales)', 'cycle', 'updated'].map((h, i) =>
      el('th', {scope: 'col', class: i >= 3 ? 'hide-narrow' : null, text: h})))),
    el('tbody', {}, page.campaigns.map((c) => el('tr', {'data-id': c.id},
      el('td', {}, campaignLink(c.id)), el('td', {}, statusBadge(c.campaign_status)),
      el('td', {text: c.zip_code}),
      el('td', {class: 'hide-narrow', text: [c.local_market_data_status, c.active_listing_status, c.recent_sale_status].join(' / ')}),
      el('td', {class: 'hide-narrow num', text: c.data_cycle}),
      el('td', {class: 'hide-narrow', text: c.updated_at}))))));
  const back = prev.length ? prev.slice(0, -1) : [];
  const pager = el('div', {class: 'row'},
    el('span', {class: 'muted', id: 'page-info', text: page.campaigns.length + ' shown' + (after ? ' after ' + after : '')}),
    el('button', {class: 'ghost', id: 'first-page', disabled: !after, onclick: () => go({status, q})}, 'First'),
    el('button', {class: 'ghost', id: 'prev-page', disabled: !after,
      onclick: () => go({status, q, after: prev[prev.length - 1] || '', prev: back.join('\n')})}, 'Previous'),
    el('button', {id: 'next-page', disabled: !page.next,
      onclick: () => go({status, q, after: page.next, prev: [...prev, after].join('\n')})}, 'Next'));
  setMain(el('h1', {text: 'Campaigns'}), form,
    page.campaigns.length ? table : el('p', {class: 'muted', id: 'no-campaigns', text: 'No campaigns match.'}), pager);
}

// ---- one campaign ----
function recordsTable(rows, sale) {
  if (!rows.length) return el('p', {class: 'muted', text: 'none'});
  return el('div', {class: 'panel scroll'}, el('table', {},
    el('thead', {}, el('tr', {}, ['#', 'address', sale ? 'sale price' : 'price', sale ? 'sold' : 'listed', 'beds', 'baths', 'sqft', 'miles'].map((h) =>
      el('th', {scope: 'col', text: h})))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('td', {text: r.rank}), el('td', {text: r.formatted_address}),
      el('td', {class: 'num', text: money(sale ? r.sale_price : r.price)}),
      el('td', {text: (sale ? r.sale_date : r.listed_date) || '–'}),
      el('td', {class: 'num', text: num(r.bedrooms)}), el('td', {class: 'num', text: num(r.bathrooms)}),
      el('td', {class: 'num', text: num(r.square_footage)}), el('td', {class: 'num', text: fixed(r.distance_miles, 2)}))))));
}
async function campaignPage(token, id) {
  document.title = id + ' · dripr';
  let c;
  try {
    c = await api('/api/campaign?id=' + encodeURIComponent(id));
  } catch (e) {
    if (token === renderToken) setMain(el('h1', {text: 'Campaign ' + id}), el('p', {class: 'err', id: 'campaign-error', text: e.message}));
    return;
  }
  if (token !== renderToken) return;
  const path = '?id=' + encodeURIComponent(id);
  const done = (r) => {
    if (!r) return;
    notice(r.changed ? 'Done: campaign is now ' + r.campaign.campaign_status : 'Nothing changed: ' + r.reason, !r.changed);
    route();
  };
  const buttons = el('div', {class: 'toolbar'},
    el('button', {id: 'reset-button', class: 'danger', disabled: c.campaign_status !== 'ERROR',
      onclick: async () => done(await act('Reset campaign ' + id + ' to DORMANT?', null, '/api/campaign/reset' + path))}, 'Reset (errored)'),
    el('button', {id: 'republish-button', disabled: c.campaign_status !== 'WAITING_FOR_DATA',
      onclick: async () => done(await act('Republish the current event of ' + id + '?', null, '/api/campaign/republish' + path))}, 'Republish event'));
  const kv = el('dl', {class: 'kv'},
    el('dt', {text: 'status'}), el('dd', {id: 'campaign-status'}, statusBadge(c.campaign_status)),
    el('dt', {text: 'local market data'}), el('dd', {}, statusBadge(c.local_market_data_status)),
    el('dt', {text: 'active listings'}), el('dd', {}, statusBadge(c.active_listing_status)),
    el('dt', {text: 'recent sales'}), el('dd', {}, statusBadge(c.recent_sale_status)),
    el('dt', {text: 'data cycle'}), el('dd', {text: c.data_cycle}),
    el('dt', {text: 'zip'}), el('dd', {text: c.zip_code}),
    el('dt', {text: 'address'}), el('dd', {id: 'campaign-address', text: c.property ? c.property.formatted_address : '(no-address newsletter)'}),
    el('dt', {text: 'user'}), el('dd', {text: c.user_id || '–'}),
    el('dt', {text: 'error'}), el('dd', {id: 'campaign-error-text', class: c.error_text ? 'err' : 'muted', text: c.error_text || 'none'}),
    el('dt', {text: 'republished / restarted'}), el('dd', {text: c.republish_count + ' / ' + c.restart_count}),
    el('dt', {text: 'created / updated'}), el('dd', {text: c.created_at + ' / ' + c.updated_at}));
  const events = el('div', {class: 'panel scroll'}, el('table', {id: 'events-table'},
    el('thead', {}, el('tr', {}, ['time', 'transition', 'cycle', 'event id'].map((h) => el('th', {scope: 'col', text: h})))),
    el('tbody', {}, c.events.length ? [] : el('tr', {}, el('td', {colspan: 4, class: 'muted', text: 'no events yet'})),
      c.events.map((e) => {
      const ev = typeof e.event === 'object' && e.event ? e.event : {};
      return el('tr', {}, el('td', {text: e.created_at}),
        el('td', {text: ev.from_status ? ev.from_status + ' → ' + ev.to_status : String(e.event)}),
        el('td', {text: ev.data_cycle ?? '–'}), el('td', {class: 'muted', text: ev.event_id || ''}));
    }))));
  const m = c.local_market_data;
  const market = m ? el('div', {class: 'panel'}, el('dl', {class: 'kv'},
    el('dt', {text: 'month'}), el('dd', {text: m.current.month + ' (previous ' + m.previous.month + ')'}),
    el('dt', {text: 'average price'}), el('dd', {text: money(m.current.average_price) + ' (was ' + money(m.previous.average_price) + ')'}),
    el('dt', {text: 'price / sqft'}), el('dd', {text: fixed(m.current.average_price_per_sqft, 0)}),
    el('dt', {text: 'days on market'}), el('dd', {text: fixed(m.current.average_days_on_market, 0)}),
    el('dt', {text: 'listings'}), el('dd', {text: num(m.current.total_listings)}),
    el('dt', {text: 'fetched'}), el('dd', {text: m.created_at}))) : el('p', {class: 'muted', text: 'none'});
  setMain(el('p', {}, el('a', {href: '/campaigns', 'data-link': true, text: '← Campaigns'})),
    el('h1', {id: 'campaign-title', text: 'Campaign ' + c.id}), buttons,
    el('div', {class: 'grid2'}, el('div', {class: 'panel'}, kv), el('div', {}, el('h2', {text: 'Market data'}), market)),
    el('h2', {text: 'Transitions and events (oldest first)'}), events,
    el('h2', {text: 'Active listings (' + c.active_listings.length + ')'}), recordsTable(c.active_listings, false),
    el('h2', {text: 'Recent sales (' + c.recent_sales.length + ')'}), recordsTable(c.recent_sales, true));
}

// ---- dead letters ----
// JSON bodies indented; an SNS envelope's "Message" (the event itself) unpacked too.
function pretty(body) {
  let v;
  try { v = JSON.parse(body); } catch (e) { return body; }
  if (v && typeof v.Message === 'string') {
    try { v.Message = JSON.parse(v.Message); } catch (e) { /* keep the string */ }
  }
  return JSON.stringify(v, null, 2);
}
async function deadLettersPage(token) {
  document.title = 'Dead letters · dripr';
  let d;
  try {
    d = await api('/api/dead-letters');
  } catch (e) {
    if (token === renderToken) setMain(el('h1', {text: 'Dead letters'}), el('p', {class: 'err', text: e.message}));
    return;
  }
  if (token !== renderToken) return;
  const report = (r) => {
    if (!r) return;
    const parts = r.messages.map((m) => m.action + (m.reason ? ' (' + m.reason + ')' : ''));
    notice(r.messages.length ? parts.join('; ') : 'Nothing to redrive.', false);
    route();
  };
  setMain(el('h1', {text: 'Dead letters'}), d.queues.map((q) => el('section', {'data-dlq': q.part},
    el('h2', {}, q.part + ' ', el('span', {class: 'muted', text: '(' + q.messages.length + ' in ' + q.dlq + ')'})),
    q.messages.length ? el('div', {class: 'toolbar'}, el('button', {'data-action': 'redrive-all',
      onclick: async () => report(await act('Redrive every message of ' + q.dlq + ' that a fetcher would act on?',
        'Stale and malformed messages stay in the DLQ.', '/api/dead-letters/redrive?queue=' + q.part))}, 'Redrive all')) : null,
    el('div', {class: 'panel'}, q.messages.length ? q.messages.map((m) => el('div', {class: 'msg', 'data-message-id': m.message_id},
      el('dl', {class: 'kv'},
        el('dt', {text: 'message'}), el('dd', {text: m.message_id}),
        el('dt', {text: 'reason'}), el('dd', {class: 'err reason', text: m.reason}),
        el('dt', {text: 'received'}), el('dd', {class: 'received', text: m.receive_count + ' time(s)'}),
        el('dt', {text: 'age'}), el('dd', {text: age(m.age_seconds) + ' (sent ' + m.sent_at + ')'})),
      el('pre', {class: 'body', tabindex: 0, 'aria-label': 'message body', text: pretty(m.body)}),
      el('div', {class: 'toolbar'},
        el('button', {'data-action': 'redrive', onclick: async () => report(await act('Send this message back to ' + q.queue + '?',
          pretty(m.body), '/api/dead-letters/redrive?queue=' + q.part + '&message_id=' + encodeURIComponent(m.message_id)))}, 'Redrive'),
        el('button', {class: 'danger', 'data-action': 'delete', onclick: async () => report(await act('Delete this message for good?',
          pretty(m.body), '/api/dead-letters/delete?queue=' + q.part + '&message_id=' + encodeURIComponent(m.message_id)))}, 'Delete'))))
      : el('p', {class: 'muted', text: 'empty'})))));
}

// ---- routing ----
function navigate(url) {
  window.history.pushState({}, '', url);
  notice('');
  route();
}
function route() {
  clearTimeout(timer);
  const token = ++renderToken;
  const p = location.pathname;
  const section = p === '/' ? 'overview' : p.startsWith('/campaigns') ? 'campaigns' : p === '/dead-letters' ? 'dead-letters' : '';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (p !== '/') document.getElementById('banner').hidden = true;
  if (p === '/') return overviewPage(token);
  if (p === '/campaigns') return campaignsPage(token);
  if (p.startsWith('/campaigns/')) return campaignPage(token, decodeURIComponent(p.slice('/campaigns/'.length)));
  if (p === '/dead-letters') return deadLettersPage(token);
  setMain(el('h1', {text: 'Not found'}), el('p', {}, el('a', {href: '/', 'data-link': true, text: 'Overview'})));
}
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token-button').addEventListener('click', askToken);
  route();
});
