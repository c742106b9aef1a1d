// Tessera share links, format v1: the browser's half of core/src/share/capsule.rs
// and pass.rs, with WebCrypto only (no dependency). The visitor page and the
// known-answer tests (cloud/web/tests, with core/tests/vectors/share-links-v1.json)
// both load this module, so what is tested is what runs.
//
// A link's 32-byte secret gives, by HKDF-SHA256 (salt "tessera/share/v1"), an
// encryption key (info "encryption": AES-256-GCM over the pass) and an access key
// (info "access": what the cloud asks for before it releases the ciphertext). The
// associated data "tessera-share/1|ID|EXPIRY" binds the link id, the format
// version and the expiry. Base64 is URL-safe without padding throughout.
//
// Links:
//   hosted          https://HOST/s/ID#SECRET.EXPIRY
//   self-contained  https://HOST/s/#1.PAYLOAD, PAYLOAD = secret(32) || expiry
//                   (i64 big-endian) || nonce(12) || ciphertext, sealed under id "local"
//
// Nothing here logs, stores or sends anything.

export const FORMAT = 1;
export const SECRET_LEN = 32;
export const NONCE_LEN = 12;
export const ID_LEN = 16;
export const MAX_FRAGMENT = 16 * 1024;
export const SELF_CONTAINED_ID = 'local';
const SELF_CONTAINED_TAG = '1.';
const SALT = 'tessera/share/v1';
const TAG_LEN = 16;

/** A link that cannot be opened as given: damaged, truncated, tampered or wrong. */
export class LinkError extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'LinkError';
  }
}

const subtle = () => {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new LinkError('this browser cannot decrypt (no WebCrypto; the page needs HTTPS)');
  return s;
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Strict base64url without padding: canonical encodings only (as Rust's decoder). */
export function base64UrlDecode(text) {
  if (typeof text !== 'string' || text.length % 4 === 1) throw new LinkError('garbled base64');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const c of text) {
    const v = VALUES.get(c);
    if (v === undefined) throw new LinkError('garbled base64');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) throw new LinkError('garbled base64 (non-canonical end)');
  return out;
}

export function base64UrlEncode(bytes) {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(acc >> bits) & 63];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (6 - bits)) & 63];
  return out;
}

const utf8 = (text) => new TextEncoder().encode(text);

/** Whether `id` is a hosted link id: 22 characters decoding to 16 bytes. */
export function isLinkId(id) {
  try {
    return typeof id === 'string' && id.length === 22 && base64UrlDecode(id).length === ID_LEN;
  } catch {
    return false;
  }
}

// Seconds since the epoch that both chrono and JavaScript dates can hold.
const MAX_SECONDS = 8_640_000_000_000;

function checkExpiry(seconds) {
  if (!Number.isSafeInteger(seconds) || Math.abs(seconds) > MAX_SECONDS) {
    throw new LinkError("the link's expiry is malformed");
  }
  return seconds;
}

/**
 * Parses a link from its path and fragment (the part after '#', without it).
 * Hosted: { kind: 'hosted', id, secret, expiresAt }; self-contained:
 * { kind: 'self-contained', id: 'local', secret, expiresAt, sealed }.
 * `expiresAt` is in seconds. Throws LinkError.
 */
export function parseParts(pathname, fragment) {
  if (typeof fragment !== 'string' || fragment === '') throw new LinkError('the link has no key');
  if (fragment.length > MAX_FRAGMENT) throw new LinkError('the link is too long');
  const match = /\/s\/([^/]*)$/.exec(pathname || '');
  if (!match) throw new LinkError('not a share link address');
  const id = match[1];
  if (id === '') {
    if (!fragment.startsWith(SELF_CONTAINED_TAG)) throw new LinkError('unknown link format');
    const bytes = base64UrlDecode(fragment.slice(SELF_CONTAINED_TAG.length));
    if (bytes.length <= SECRET_LEN + 8 + NONCE_LEN) throw new LinkError('the link is truncated');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const expiry = view.getBigInt64(SECRET_LEN, false);
    if (expiry > BigInt(MAX_SECONDS) || expiry < -BigInt(MAX_SECONDS)) {
      throw new LinkError("the link's expiry is malformed");
    }
    return {
      kind: 'self-contained',
      id: SELF_CONTAINED_ID,
      secret: bytes.slice(0, SECRET_LEN),
      expiresAt: checkExpiry(Number(expiry)),
      sealed: bytes.slice(SECRET_LEN + 8),
    };
  }
  if (!isLinkId(id)) throw new LinkError('the link id is malformed');
  const dot = fragment.indexOf('.');
  if (dot < 0) throw new LinkError("the link's key is malformed");
  const secret = base64UrlDecode(fragment.slice(0, dot));
  if (secret.length !== SECRET_LEN) throw new LinkError("the link's key has the wrong length");
  const expiry = fragment.slice(dot + 1);
  if (!/^-?[0-9]{1,16}$/.test(expiry)) throw new LinkError("the link's expiry is malformed");
  return { kind: 'hosted', id, secret, expiresAt: checkExpiry(Number(expiry)) };
}

/** Parses a whole link URL (as the known-answer vectors give it). */
export function parseLink(url) {
  const hash = url.indexOf('#');
  if (hash < 0) throw new LinkError('the link has no key');
  let parsed;
  try {
    parsed = new URL(url.slice(0, hash));
  } catch {
    throw new LinkError('not a URL');
  }
  if (!['https:', 'http:'].includes(parsed.protocol) || parsed.search !== '') {
    throw new LinkError('not a share link address');
  }
  const link = parseParts(parsed.pathname, url.slice(hash + 1));
  const base = parsed.origin + parsed.pathname.replace(/\/s\/[^/]*$/, '');
  return { ...link, base };
}

async function hkdf(secret, info) {
  const key = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(SALT), info: utf8(info) },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** The access key the cloud asks for (32 bytes). */
export function accessKey(secret) {
  return hkdf(secret, 'access');
}

/** What the cloud keeps instead of the access key: SHA-256 of it. */
export async function accessKeyHash(access) {
  return new Uint8Array(await subtle().digest('SHA-256', access));
}

export function associatedData(id, expiresAt) {
  return utf8(`tessera-share/${FORMAT}|${id}|${expiresAt}`);
}

/** Decrypts nonce || ciphertext; any change to it, the id or the expiry throws LinkError. */
export async function openSealed(sealed, id, expiresAt, secret) {
  if (!(sealed instanceof Uint8Array) || sealed.length <= NONCE_LEN + TAG_LEN) {
    throw new LinkError('the sealed pass is truncated');
  }
  const raw = await hkdf(secret, 'encryption');
  const key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
  raw.fill(0);
  try {
    const plain = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: sealed.slice(0, NONCE_LEN),
        additionalData: associatedData(id, expiresAt),
        tagLength: 128,
      },
      key,
      sealed.slice(NONCE_LEN),
    );
    return new Uint8Array(plain);
  } catch {
    throw new LinkError("the link's key does not open this pass (damaged or wrong link)");
  }
}

/** Decrypts and validates a pass (as pass.rs does); throws LinkError. */
export async function openPass(sealed, id, expiresAt, secret) {
  const plain = await openSealed(sealed, id, expiresAt, secret);
  let pass;
  try {
    pass = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch {
    throw new LinkError('the pass is malformed');
  } finally {
    plain.fill(0);
  }
  validatePass(pass);
  if (Math.floor(Date.parse(pass.expires_at) / 1000) !== expiresAt) {
    throw new LinkError('the pass and its link disagree on the expiry');
  }
  return pass;
}

const KINDS = ['permanent', 'window', 'one_time', 'weekly', 'expiring_after_first_use'];
const FIELDS = {
  version: 'required',
  lock_name: 'required',
  label: 'required',
  code: 'required',
  kind: 'required',
  lock_zone: 'required',
  summary: 'required',
  intervals: 'required',
  first_use_minutes: 'optional',
  first_use_by: 'optional',
  address: 'optional',
  instructions: 'optional',
  host_note: 'optional',
  host_contact: 'optional',
  issued_at: 'required',
  expires_at: 'required',
};
const MAX_INTERVALS = 12;
const MAX_FIRST_USE_MINUTES = 366 * 24 * 60;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function invalid(reason) {
  return new LinkError(`the pass is malformed: ${reason}`);
}

function bounded(name, value, max, required) {
  if (typeof value !== 'string') throw invalid(`${name} is not text`);
  if (required && value.trim() === '') throw invalid(`${name} is empty`);
  if ([...value].length > max) throw invalid(`${name} is longer than ${max} characters`);
  // Control characters other than a line break (as Rust's char::is_control).
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(value)) throw invalid(`${name} has control characters`);
}

function instant(name, value) {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(`${name} is not a time`);
  }
  return Date.parse(value);
}

/** Whether `zone` is an IANA time zone this browser knows. */
export function isTimeZone(zone) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks every field of a pass: version, presence, types, lengths, order of instants. */
export function validatePass(pass) {
  if (pass === null || typeof pass !== 'object' || Array.isArray(pass)) throw invalid('not an object');
  for (const key of Object.keys(pass)) {
    if (!(key in FIELDS)) throw invalid(`unknown field ${key}`);
  }
  for (const [key, presence] of Object.entries(FIELDS)) {
    if (presence === 'required' && !(key in pass)) throw invalid(`missing ${key}`);
  }
  if (pass.version !== FORMAT) throw invalid(`version ${pass.version} is not one this page reads`);
  bounded('lock name', pass.lock_name, 80, true);
  bounded('label', pass.label, 80, true);
  bounded('lock zone', pass.lock_zone, 64, true);
  if (!isTimeZone(pass.lock_zone)) throw invalid('unknown time zone');
  bounded('summary', pass.summary, 300, true);
  for (const [key, max] of [
    ['address', 200],
    ['instructions', 1000],
    ['host_note', 500],
    ['host_contact', 200],
  ]) {
    if (pass[key] !== undefined && pass[key] !== null) bounded(key.replace('_', ' '), pass[key], max, false);
  }
  if (typeof pass.code !== 'string' || !/^[0-9]{1,12}$/.test(pass.code)) throw invalid('the code is not digits');
  if (!KINDS.includes(pass.kind)) throw invalid('unknown kind');
  if (!Array.isArray(pass.intervals) || pass.intervals.length > MAX_INTERVALS) throw invalid('intervals');
  for (const interval of pass.intervals) {
    if (interval === null || typeof interval !== 'object') throw invalid('intervals');
    const keys = Object.keys(interval).sort().join(',');
    if (keys !== 'end,start') throw invalid('intervals');
    if (instant('interval end', interval.end) <= instant('interval start', interval.start)) {
      throw invalid('an interval ends before it starts');
    }
  }
  const minutes = pass.first_use_minutes;
  if (minutes !== undefined && minutes !== null) {
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > 0xffffffff) throw invalid('first use minutes');
    if (minutes === 0 || minutes > MAX_FIRST_USE_MINUTES) throw invalid('first use minutes out of range');
  }
  if (pass.first_use_by !== undefined && pass.first_use_by !== null) instant('first use by', pass.first_use_by);
  if (instant('expiry', pass.expires_at) <= instant('issue time', pass.issued_at)) {
    throw invalid('the pass expires before it was issued');
  }
  return pass;
}

/**
 * Opens a link whose parts came from the page's address. Self-contained links
 * open here; hosted ones need `fetchSealed(id, accessKeyBase64)`, which returns
 * the base64url sealed pass or null when the cloud will not release it.
 * Returns { link, pass } or { link, unavailable: true }.
 */
export async function openLink(link, fetchSealed) {
  if (link.kind === 'self-contained') {
    return { link, pass: await openPass(link.sealed, link.id, link.expiresAt, link.secret) };
  }
  const access = await accessKey(link.secret);
  const sealedText = await fetchSealed(link.id, base64UrlEncode(access));
  access.fill(0);
  if (sealedText === null) return { link, unavailable: true };
  let sealed;
  try {
    sealed = base64UrlDecode(sealedText);
  } catch {
    throw new LinkError('the cloud sent a damaged pass');
  }
  return { link, pass: await openPass(sealed, link.id, link.expiresAt, link.secret) };
}
