// The live view's script: reads /status.json once, then follows /status/events (server-sent events). It builds
// the page with DOM calls and textContent only (never HTML from data: numbers, names and errors come from outside).
'use strict';

const STRINGS = {
  en: {
    title: 'Bridge: live view', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…',
    health: 'Connections', calls: 'Calls in progress', setAside: 'Members set aside by the ring-back fix',
    outbox: 'Waiting for the portal', errors: 'Recent warnings and errors', actionsTitle: 'Actions',
    token: 'Status token', signIn: 'Sign in', signOut: 'Sign out', retryAll: 'Retry all parked',
    ami: 'Asterisk (AMI)', portal: 'Bitrix24 portal', connected: 'connected', down: 'down', reachable: 'reachable',
    unreachable: 'unreachable', version: 'version', uptime: 'up', unknown: 'unknown', since: 'since',
    mode: 'mode', tokenState: 'application', authorised: 'authorised', required: 'not authorised',
    expires: 'refresh token until', requests: 'requests in the last minute', budget: 'budget',
    lastRefusal: 'last refusal', none: 'none', ringing: 'ringing', talking: 'talking', onHold: 'on hold',
    inbound: 'inbound', outbound: 'outbound', queue: 'queue', rung: 'ringing', cards: 'card open for',
    agent: 'talking with', registered: 'registered in Bitrix24', notRegistered: 'not registered yet',
    noCalls: 'No calls right now.', noSetAside: 'Nobody is set aside.', pause: 'paused', penalty: 'penalty',
    undoAt: 'undo at', release: 'Release now', depth: 'commands waiting', oldest: 'oldest',
    parked: 'parked', retry: 'Retry', recordings: 'recordings waiting', transcripts: 'transcripts waiting', noErrors: 'No warnings or errors.',
    noParked: 'No parked commands.', times: '×', ago: 'ago', inTime: 'in', user: 'user', ext: 'ext.',
    canAct: 'You may release members and retry parked commands.',
    needToken: 'Sign in with the status token to release members or retry parked commands.',
    localOnly: 'No status token is configured: actions are allowed from this machine only.',
    done: 'Done.', failed: 'Refused', call: 'call', error: 'error', phaseApplying: 'being applied',
    phaseUndoing: 'being undone',
  },
  ru: {
    title: 'Мост: мониторинг', connecting: 'подключение…', live: 'в эфире', reconnecting: 'переподключение…',
    health: 'Соединения', calls: 'Звонки сейчас', setAside: 'Операторы, отложенные защитой от повторного звонка',
    outbox: 'Ждёт отправки в портал', errors: 'Последние предупреждения и ошибки', actionsTitle: 'Действия',
    token: 'Токен мониторинга', signIn: 'Войти', signOut: 'Выйти', retryAll: 'Повторить все отложенные',
    ami: 'Asterisk (AMI)', portal: 'Портал Битрикс24', connected: 'подключён', down: 'нет связи', reachable: 'доступен',
    unreachable: 'недоступен', version: 'версия', uptime: 'работает', unknown: 'неизвестно', since: 'с',
    mode: 'режим', tokenState: 'приложение', authorised: 'авторизовано', required: 'не авторизовано',
    expires: 'refresh-токен до', requests: 'запросов за минуту', budget: 'лимит',
    lastRefusal: 'последний отказ', none: 'нет', ringing: 'звонит', talking: 'разговор', onHold: 'на удержании',
    inbound: 'входящий', outbound: 'исходящий', queue: 'очередь', rung: 'звонит у', cards: 'карточка открыта у',
    agent: 'говорит с', registered: 'зарегистрирован в Битрикс24', notRegistered: 'ещё не зарегистрирован',
    noCalls: 'Сейчас звонков нет.', noSetAside: 'Никто не отложен.', pause: 'пауза', penalty: 'штраф',
    undoAt: 'снятие в', release: 'Вернуть сейчас', depth: 'команд ждёт', oldest: 'самая старая',
    parked: 'отложено', retry: 'Повторить', recordings: 'записей ждёт', transcripts: 'расшифровок ждёт', noErrors: 'Предупреждений и ошибок нет.',
    noParked: 'Отложенных команд нет.', times: '×', ago: 'назад', inTime: 'через', user: 'пользователь', ext: 'доб.',
    canAct: 'Можно возвращать операторов и повторять отложенные команды.',
    needToken: 'Войдите с токеном мониторинга, чтобы возвращать операторов и повторять команды.',
    localOnly: 'Токен мониторинга не задан: действия доступны только с этой машины.',
    done: 'Готово.', failed: 'Отказ', call: 'звонок', error: 'ошибка', phaseApplying: 'применяется',
    phaseUndoing: 'снимается',
  },
};

const LANG_KEY = 'b24bridge.status.lang';
let lang = pickLang();
let state;
let viewer = { canAct: false, signedIn: false, local: false };
let offset = 0; // server clock minus ours, from generatedAt

function pickLang() {
  const stored = localStorage.getItem(LANG_KEY);
  if (stored === 'en' || stored === 'ru') return stored;
  return (navigator.language || 'en').toLowerCase().startsWith('ru') ? 'ru' : 'en';
}
const t = (key) => STRINGS[lang][key] ?? STRINGS.en[key] ?? key;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
const now = () => Date.now() + offset;
const clockTime = (at) => new Date(at - offset).toLocaleTimeString(lang === 'ru' ? 'ru-RU' : 'en-GB');
const dateTime = (at) => new Date(at - offset).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB');
// Ages tick every second without a new snapshot: the element keeps its time, the text is recomputed.
const age = (at) => el('span', { class: 'age', 'data-since': at }, duration(now() - at));
const until = (at) => el('span', { class: 'age', 'data-until': at }, `${t('inTime')} ${duration(at - now())}`);
const badge = (ok, yes, no) => el('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, ok ? yes : no);
const person = (p) => el('span', { class: 'person', 'data-ext': p.ext ?? '', 'data-user': p.userId ?? '' }, p.ext ? `${t('ext')} ${p.ext}` : '', p.ext && p.userId ? ' · ' : '', p.userId ? `${t('user')} ${p.userId}` : '');
const row = (label, ...value) => el('div', { class: 'row' }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, ...value));

function replace(id, ...nodes) {
  const target = document.getElementById(id);
  target.replaceChildren(...nodes.filter(Boolean));
}

function render() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.getAttribute('data-t'));
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-lang') === lang));
  if (!state) return;
  const s = state;
  replace('ami', el('h3', {}, t('ami'), ' ', badge(s.ami.connected, t('connected'), t('down'))),
    row(t('version'), s.ami.asteriskVersion ?? t('unknown')),
    s.ami.bootedAt ? row(t('uptime'), age(s.ami.bootedAt)) : null,
    s.ami.since ? row(t('since'), clockTime(s.ami.since)) : null);
  const p = s.portal;
  replace('portal', el('h3', {}, t('portal'), ' ', badge(p.reachable, t('reachable'), t('unreachable'))),
    p.problem ? el('p', { class: 'problem' }, p.problem) : null,
    row(t('mode'), p.mode),
    p.token ? row(t('tokenState'), p.token.state === 'authorised' ? `${t('authorised')}, ${t('expires')} ${dateTime(p.token.refreshTokenExpiresAt)}` : `${t('required')}: ${p.token.reason}`) : null,
    row(t('requests'), el('span', { id: 'requests' }, `${p.requestsLastMinute} / ${p.budgetPerMinute}`), ` (${t('budget')}, burst ${p.burst})`),
    row(t('lastRefusal'), p.lastRefusal ? `${p.lastRefusal.code} ${p.lastRefusal.method}, ${clockTime(p.lastRefusal.at)}` : t('none')));

  replace('calls-count', `(${s.calls.length})`);
  replace('call-list', ...(s.calls.length === 0 ? [el('li', { class: 'empty' }, t('noCalls'))] : s.calls.map(renderCall)));
  replace('setaside-count', `(${s.setAside.length})`);
  replace('setaside-list', ...(s.setAside.length === 0 ? [el('li', { class: 'empty' }, t('noSetAside'))] : s.setAside.map(renderSetAside)));

  replace('outbox-summary', row(t('depth'), el('span', { id: 'depth' }, s.outbox.depth)),
    s.outbox.oldestCreatedAt ? row(t('oldest'), age(s.outbox.oldestCreatedAt)) : null,
    row(t('parked'), el('span', { id: 'parked-count' }, s.outbox.parked.length)),
    row(t('recordings'), el('span', { id: 'recordings' }, s.recordings.waiting)),
    s.transcripts ? row(t('transcripts'), el('span', { id: 'transcripts' }, s.transcripts.waiting)) : null);
  replace('parked-list', ...(s.outbox.parked.length === 0 ? [el('li', { class: 'empty' }, t('noParked'))] : s.outbox.parked.map(renderParked)));
  const retryAll = document.getElementById('retry-all');
  retryAll.hidden = !(viewer.canAct && s.outbox.parked.length > 0);

  replace('error-list', ...(s.errors.length === 0 ? [el('li', { class: 'empty' }, t('noErrors'))] : s.errors.map((e) =>
    el('li', { class: `error ${e.level}` }, el('span', { class: 'message' }, e.message), el('span', { class: 'meta' }, `${e.count}${t('times')} · ${clockTime(e.lastAt)}`)))));

  document.getElementById('access-note').textContent = viewer.canAct ? t('canAct') : s.actions.tokenConfigured ? t('needToken') : t('localOnly');
  document.getElementById('sign-in').hidden = viewer.signedIn || !s.actions.tokenConfigured;
  document.getElementById('sign-out').hidden = !viewer.signedIn;
}

function renderCall(c) {
  return el('li', { class: `call ${c.state}`, 'data-linkedid': c.linkedid, 'data-state': c.state },
    el('div', { class: 'head' },
      el('span', { class: `badge ${c.state}` }, t(c.state)), ' ',
      el('strong', { class: 'number' }, c.number || '—'),
      c.crmName ? el('span', { class: 'crm' }, ` · ${c.crmName}`) : null,
      ' ', age(c.since)),
    el('div', { class: 'meta' }, c.direction ? t(c.direction) : '', c.queue ? ` · ${t('queue')} ${c.queue}` : '', ' · ', c.registered ? t('registered') : t('notRegistered')),
    c.ringing.length ? el('div', { class: 'ringing' }, `${t('rung')}: `, ...c.ringing.map(person)) : null,
    c.cards.length ? el('div', { class: 'cards' }, `${t('cards')}: `, ...c.cards.map(person)) : null,
    c.agent ? el('div', { class: 'agent' }, `${t('agent')}: `, person(c.agent)) : null);
}

function renderSetAside(m) {
  const what = m.policy === 'pause' ? t('pause') : `${t('penalty')} ${m.penalty ?? ''}${m.restoreTo !== null ? ` (→ ${m.restoreTo})` : ''}`;
  const phase = m.phase === 'applying' ? ` (${t('phaseApplying')})` : m.phase === 'undoing' ? ` (${t('phaseUndoing')})` : '';
  return el('li', { class: 'member', 'data-queue': m.queue, 'data-iface': m.iface },
    el('div', { class: 'head' }, el('strong', {}, m.member || m.iface), ` · ${t('queue')} ${m.queue} · `, el('span', { class: 'policy' }, what + phase)),
    el('div', { class: 'meta' }, `${t('since')} ${clockTime(m.since)} · ${t('undoAt')} `, el('span', { class: 'undo-at' }, clockTime(m.undoAt)), ' (', until(m.undoAt), ')'),
    viewer.canAct && m.phase !== 'undoing' ? el('button', { type: 'button', class: 'release', 'aria-label': `${t('release')}: ${m.member || m.iface}, ${t('queue')} ${m.queue}`, onclick: () => act('/status/release', { queue: m.queue, iface: m.iface }) }, t('release')) : null);
}

function renderParked(x) {
  return el('li', { class: 'parked', 'data-seq': x.seq },
    el('div', { class: 'head' }, el('strong', {}, `#${x.seq} ${x.method}`), ` · ${t('call')} ${x.call}`),
    el('div', { class: 'meta' }, `${clockTime(x.parkedAt)} · ${x.error}`),
    viewer.canAct && x.dependsOn === null ? el('button', { type: 'button', class: 'retry', 'aria-label': `${t('retry')} #${x.seq} ${x.method}`, onclick: () => act('/status/retry-parked', { seq: [x.seq] }) }, t('retry')) : null);
}

async function act(path, body) {
  const out = document.getElementById('action-result');
  out.textContent = '…';
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
    const answer = await res.json().catch(() => ({}));
    out.textContent = res.ok ? t('done') : `${t('failed')} (${res.status}): ${answer.message ?? ''}`;
  } catch (err) {
    out.textContent = `${t('failed')}: ${err}`;
  }
}

function tick() {
  for (const node of document.querySelectorAll('[data-since]')) node.textContent = duration(now() - Number(node.getAttribute('data-since')));
  for (const node of document.querySelectorAll('[data-until]')) node.textContent = `${t('inTime')} ${duration(Number(node.getAttribute('data-until')) - now())}`;
}

function accept(snapshot) {
  state = snapshot;
  offset = snapshot.generatedAt - Date.now();
  render();
}

function feedState(key) {
  const f = document.getElementById('feed');
  f.setAttribute('data-t', key);
  f.className = `badge ${key === 'live' ? 'ok' : 'bad'}`;
  f.textContent = t(key);
}

function follow() {
  const source = new EventSource('/status/events');
  source.addEventListener('status', (e) => {
    feedState('live');
    accept(JSON.parse(e.data));
  });
  source.addEventListener('error', () => {
    feedState('reconnecting');
    // The browser retries a broken stream by itself; a refused one (closed) is opened again here.
    if (source.readyState === EventSource.CLOSED) setTimeout(follow, 5000);
  });
}

async function start() {
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => {
      lang = b.getAttribute('data-lang');
      localStorage.setItem(LANG_KEY, lang);
      render();
      feedState(document.getElementById('feed').getAttribute('data-t'));
    });
  }
  document.getElementById('retry-all').addEventListener('click', () => act('/status/retry-parked', {}));
  render();
  try {
    const res = await fetch('/status.json', { credentials: 'same-origin' });
    const s = await res.json();
    if (s.viewer) viewer = s.viewer;
    if (res.ok) accept(s);
  } catch {
    feedState('reconnecting');
  }
  follow();
  setInterval(tick, 1000);
}

start();
