// The visitor page: reads the link's fragment, removes it from the address bar
// at once, opens the link (hosted: asks the cloud with the derived access key;
// self-contained: no request at all), decrypts the pass with WebCrypto and shows
// it. The secret and the code live in this module's memory only: never logged,
// stored or sent. Every pass field is written with textContent, never as HTML.

import { LinkError, openLink, parseParts } from './share-crypto.js';

// First of all: take the fragment and drop it from the address bar and history.
const fragment = location.hash.slice(1);
const linkPath = location.pathname;
history.replaceState(null, '', linkPath + location.search);

const $ = (id) => document.getElementById(id);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

let pass = null;
let link = null;
let timer = null;
let revealed = false;

class Unreachable extends Error {}

// ---- time and text ----------------------------------------------------------

function formatInstant(ms, zone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(ms));
}

/** "UTC+01:00" for the zone at that instant. */
function utcOffset(ms, zone) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(ms))
    .find((p) => p.type === 'timeZoneName');
  const text = part ? part.value : 'GMT';
  return text === 'GMT' ? 'UTC+00:00' : text.replace('GMT', 'UTC');
}

function stamped(ms, zone) {
  return `${formatInstant(ms, zone)} (${utcOffset(ms, zone)})`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "2 days 3 hours", "3 hours 4 minutes", "4 minutes 05 seconds". */
function duration(ms) {
  const total = Math.max(0, Math.ceil(ms / SECOND));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${plural(days, 'day')} ${plural(hours, 'hour')}`;
  if (hours > 0) return `${plural(hours, 'hour')} ${plural(minutes, 'minute')}`;
  if (minutes > 0) return `${plural(minutes, 'minute')} ${plural(seconds, 'second')}`;
  return plural(seconds, 'second');
}

function minutesText(minutes) {
  if (minutes % (24 * 60) === 0) return plural(minutes / (24 * 60), 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  if (minutes > 60) return `${plural(Math.floor(minutes / 60), 'hour')} ${plural(minutes % 60, 'minute')}`;
  return plural(minutes, 'minute');
}

/** Digits in groups that are easy to read and type: 3+3, 4+4, 3+3+3 ... */
function groupDigits(code) {
  const n = code.length;
  if (n <= 4) return [code];
  const sizes = { 5: [2, 3], 6: [3, 3], 7: [3, 4], 8: [4, 4], 9: [3, 3, 3], 10: [3, 3, 4], 11: [4, 4, 3], 12: [4, 4, 4] }[n] || [n];
  const groups = [];
  let at = 0;
  for (const size of sizes) {
    groups.push(code.slice(at, at + size));
    at += size;
  }
  return groups;
}

// ---- rendering ----------------------------------------------------------------

function show(id, visible) {
  $(id).hidden = !visible;
}

function setText(id, text) {
  $(id).textContent = text;
}

function setStatus(state, badge, title, detail) {
  document.body.dataset.state = state;
  setText('badge', badge);
  setText('title', title);
  setText('detail', detail || '');
  show('detail', Boolean(detail));
  show('spinner', state === 'loading');
  document.title = `${title} – access pass`;
}

function showPassSections(visible) {
  for (const id of ['code-card', 'when-card', 'where-card']) show(id, visible);
}

/** A state without a pass: expired, unavailable, damaged, unreachable. */
function fail(state, badge, title, detail) {
  stopTimer();
  forgetCode();
  showPassSections(false);
  show('countdown', false);
  setStatus(state, badge, title, detail);
}

function forgetCode() {
  if (pass) pass.code = '';
  revealed = false;
  renderCode();
}

function renderCode() {
  const box = $('code-value');
  box.replaceChildren();
  const button = $('reveal');
  const code = pass ? pass.code : '';
  if (revealed && code) {
    const spoken = document.createElement('span');
    spoken.className = 'sr-only';
    spoken.textContent = `Your code: ${[...code].join(' ')}`;
    const visible = document.createElement('span');
    visible.className = 'digits';
    visible.setAttribute('aria-hidden', 'true');
    for (const group of groupDigits(code)) {
      const span = document.createElement('span');
      span.className = 'group';
      span.textContent = group;
      visible.append(span);
    }
    box.append(spoken, visible);
    button.textContent = 'Hide code';
    button.setAttribute('aria-expanded', 'true');
  } else {
    const masked = document.createElement('span');
    masked.className = 'masked';
    masked.setAttribute('aria-hidden', 'true');
    masked.textContent = groupDigits('•'.repeat(code.length || 6)).join(' ');
    const spoken = document.createElement('span');
    spoken.className = 'sr-only';
    spoken.textContent = 'The code is hidden.';
    box.append(masked, spoken);
    button.textContent = 'Reveal code';
    button.setAttribute('aria-expanded', 'false');
  }
}

function addTime(list, text) {
  const item = document.createElement('li');
  item.textContent = text;
  list.append(item);
}

function renderTimes() {
  const lockZone = pass.lock_zone;
  setText('lock-zone-name', lockZone);
  setText('your-zone-name', visitorZone === lockZone ? `${visitorZone}, the same` : visitorZone);
  const lockTimes = $('lock-times');
  const yourTimes = $('your-times');
  lockTimes.replaceChildren();
  yourTimes.replaceChildren();
  if (pass.intervals.length === 0) {
    addTime(lockTimes, 'Any time, until your host revokes the code.');
    addTime(yourTimes, 'Any time, until your host revokes the code.');
  }
  for (const interval of pass.intervals) {
    const start = Date.parse(interval.start);
    const end = Date.parse(interval.end);
    addTime(lockTimes, `From ${stamped(start, lockZone)} until ${stamped(end, lockZone)}`);
    addTime(yourTimes, `From ${stamped(start, visitorZone)} until ${stamped(end, visitorZone)}`);
  }
  const expires = Date.parse(pass.expires_at);
  setText('link-expiry', `This link stops working on ${stamped(expires, visitorZone)}, your time.`);
}

function renderPass() {
  setText('lock-name', pass.lock_name);
  setText('for-whom', `For ${pass.label}`);
  setText('summary', pass.summary);
  show('one-time', pass.kind === 'one_time');
  const firstUse = [];
  if (pass.first_use_by) {
    const by = Date.parse(pass.first_use_by);
    firstUse.push(
      `Use it for the first time by ${stamped(by, pass.lock_zone)} at the door (${stamped(by, visitorZone)} your time).`,
    );
  }
  if (pass.first_use_minutes) {
    firstUse.push(`After the first entry it keeps working for ${minutesText(pass.first_use_minutes)}.`);
  }
  setText('first-use', firstUse.join(' '));
  show('first-use', firstUse.length > 0);
  renderTimes();
  for (const [field, id] of [
    ['address', 'address'],
    ['instructions', 'instructions'],
    ['host_note', 'host-note'],
  ]) {
    setText(id, pass[field] || '');
    show(`${id.replace('host-', '')}-row`, Boolean(pass[field]));
  }
  renderContact(pass.host_contact);
  renderCode();
  showPassSections(true);
}

function renderContact(contact) {
  const cell = $('host-contact');
  cell.replaceChildren();
  show('contact-row', Boolean(contact));
  if (!contact) return;
  let href = null;
  if (/^\+?[0-9][0-9 ()./-]{4,}$/.test(contact)) href = `tel:${contact.replace(/[^0-9+]/g, '')}`;
  else if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contact)) href = `mailto:${contact}`;
  if (href) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = contact;
    cell.append(a);
  } else {
    cell.textContent = contact;
  }
}

// ---- state over time --------------------------------------------------------

/** Where the pass stands at `now`: its state and the instant of the next change. */
function standing(now) {
  const expires = Date.parse(pass.expires_at);
  if (now >= expires) return { state: 'expired' };
  if (pass.intervals.length === 0) return { state: 'valid', until: null, expires };
  const next = pass.intervals.find((i) => Date.parse(i.end) > now);
  if (!next) return { state: 'expired' };
  const start = Date.parse(next.start);
  const end = Math.min(Date.parse(next.end), expires);
  if (start > now) return { state: 'not-yet-valid', at: start };
  return { state: 'valid', until: end };
}

function tick() {
  if (!pass) return;
  const now = Date.now();
  const where = standing(now);
  const countdown = $('countdown');
  if (where.state === 'expired') {
    fail(
      'expired',
      'Expired',
      'This access pass has expired',
      'The time your host gave has ended, so the code no longer opens the door. Ask your host for a new link if you still need to get in.',
    );
    return;
  }
  if (where.state === 'not-yet-valid') {
    if (document.body.dataset.state !== 'not-yet-valid') {
      setStatus(
        'not-yet-valid',
        'Not yet valid',
        'Your code is not valid yet',
        `It starts working on ${stamped(where.at, visitorZone)} (your time). You can already note it down.`,
      );
    }
    countdown.textContent = `Starts in ${duration(where.at - now)}`;
    countdown.hidden = false;
    return;
  }
  if (document.body.dataset.state !== 'valid') {
    const detail =
      where.until === null
        ? 'It works at any time until your host revokes it.'
        : `It works until ${stamped(where.until, visitorZone)} (your time).`;
    setStatus('valid', 'Valid now', 'Your code works now', detail);
  }
  if (where.until === null) {
    countdown.hidden = true;
  } else {
    countdown.textContent = `Ends in ${duration(where.until - now)}`;
    countdown.hidden = false;
  }
}

function startTimer() {
  stopTimer();
  tick();
  timer = setInterval(tick, SECOND);
}

function stopTimer() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

// ---- opening ----------------------------------------------------------------

async function fetchSealed(id, accessKey) {
  let response;
  try {
    response = await fetch(new URL(`../v1/shares/${encodeURIComponent(id)}/open`, location.href), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ access_key: accessKey }),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      redirect: 'error',
    });
  } catch {
    throw new Unreachable('network');
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new Unreachable(response.status === 429 ? 'busy' : 'server');
  let body;
  try {
    body = await response.json();
  } catch {
    throw new LinkError('the cloud sent a damaged pass');
  }
  if (!body || typeof body.sealed !== 'string' || body.id !== id) throw new LinkError('the cloud sent a damaged pass');
  return body.sealed;
}

async function open() {
  show('retry', false);
  setStatus('loading', 'Opening', 'Opening your access pass…', 'Decrypting the pass in your browser.');
  if (!link) {
    try {
      link = parseParts(linkPath, fragment);
    } catch {
      damaged(fragment === '');
      return;
    }
  }
  // A link past its expiry is not even asked for.
  if (Date.now() >= link.expiresAt * 1000) {
    fail(
      'expired',
      'Expired',
      'This link has expired',
      `It stopped working on ${stamped(link.expiresAt * 1000, visitorZone)} (your time). Ask your host for a new link if you still need to get in.`,
    );
    return;
  }
  let opened;
  try {
    opened = await openLink(link, fetchSealed);
  } catch (error) {
    if (error instanceof Unreachable) {
      fail(
        'unreachable',
        'Try again',
        'The pass could not be fetched',
        error.message === 'busy'
          ? 'Too many tries from this network just now. Wait a minute, then try again.'
          : 'Check your connection, then try again.',
      );
      show('retry', true);
      return;
    }
    damaged(false);
    return;
  }
  if (opened.unavailable) {
    fail(
      'unavailable',
      'No longer available',
      'This link is no longer available',
      'Your host revoked it, or it has been opened as often as allowed. If you copied the link by hand, check that it is complete; otherwise ask your host for a new one.',
    );
    return;
  }
  pass = opened.pass;
  link.secret.fill(0);
  renderPass();
  startTimer();
}

function damaged(missing) {
  fail(
    'damaged',
    'Damaged link',
    missing ? 'This link is incomplete' : 'This link is damaged or wrong',
    missing
      ? 'The part of the link after the # sign is missing. Open the link again from the message you received; for your safety this page forgets it once opened.'
      : 'It may have been cut off or changed when it was copied. Open it again from the message you received, or ask your host to send it again.',
  );
}

$('reveal').addEventListener('click', () => {
  if (!pass || !pass.code) return;
  revealed = !revealed;
  renderCode();
});

$('copy').addEventListener('click', async () => {
  if (!pass || !pass.code) return;
  const status = $('copy-status');
  try {
    await navigator.clipboard.writeText(pass.code);
    status.textContent = 'Code copied.';
  } catch {
    status.textContent = 'Copying is not available here: reveal the code and type it in.';
  }
});

$('retry').addEventListener('click', () => {
  open();
});

open();
