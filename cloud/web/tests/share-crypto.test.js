// Known-answer tests of the visitor page's crypto (share-crypto.js) against the
// vectors the Rust core checks too (core/tests/vectors/share-links-v1.json).
// Run: node --test cloud/web/tests/   (Node 20+, no dependencies)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  LinkError,
  accessKey,
  accessKeyHash,
  associatedData,
  base64UrlDecode,
  base64UrlEncode,
  openLink,
  openPass,
  openSealed,
  parseLink,
  parseParts,
  validatePass,
} from '../share-crypto.js';

const VECTORS = JSON.parse(
  readFileSync(new URL('../../../core/tests/vectors/share-links-v1.json', import.meta.url), 'utf8'),
);
const b64 = base64UrlDecode;
const enc = base64UrlEncode;

test('the vectors file is the one this page implements', () => {
  assert.equal(VECTORS.format, 'tessera share links v1');
  assert.ok(VECTORS.vectors.length >= 2);
  assert.deepEqual(new Set(VECTORS.vectors.map((v) => v.name)), new Set(['hosted', 'self-contained']));
});

for (const v of VECTORS.vectors) {
  test(`${v.name}: access key and its hash`, async () => {
    const access = await accessKey(b64(v.secret));
    assert.equal(enc(access), v.access_key);
    assert.equal(enc(await accessKeyHash(access)), v.access_key_hash);
  });

  test(`${v.name}: associated data`, () => {
    assert.equal(new TextDecoder().decode(associatedData(v.id, v.expires_at)), v.associated_data);
  });

  test(`${v.name}: the sealed pass decrypts to exactly the plaintext`, async () => {
    const sealed = b64(v.sealed);
    assert.equal(enc(sealed.slice(0, 12)), v.nonce);
    const plain = await openSealed(sealed, v.id, v.expires_at, b64(v.secret));
    assert.equal(new TextDecoder().decode(plain), v.plaintext);
    const pass = await openPass(sealed, v.id, v.expires_at, b64(v.secret));
    assert.deepEqual(pass, JSON.parse(v.plaintext));
    assert.equal(pass.code, '048213');
  });

  test(`${v.name}: the link parses into its parts`, () => {
    const link = parseLink(v.link);
    assert.equal(link.base, 'https://share.example');
    assert.equal(link.id, v.id);
    assert.equal(enc(link.secret), v.secret);
    assert.equal(link.expiresAt, v.expires_at);
    if (v.name === 'self-contained') {
      assert.equal(link.kind, 'self-contained');
      assert.equal(enc(link.sealed), v.sealed);
    } else {
      assert.equal(link.kind, 'hosted');
      assert.equal(link.sealed, undefined);
    }
  });

  test(`${v.name}: any flipped bit, another id or another expiry fails`, async () => {
    const sealed = b64(v.sealed);
    const secret = b64(v.secret);
    for (const index of [0, 11, 12, sealed.length >> 1, sealed.length - 1]) {
      const tampered = sealed.slice();
      tampered[index] ^= 0x01;
      await assert.rejects(openSealed(tampered, v.id, v.expires_at, secret), LinkError);
    }
    await assert.rejects(openSealed(sealed, 'AAECAwQFBgcICQoLDA0ODg', v.expires_at, secret), LinkError);
    await assert.rejects(openSealed(sealed, v.id, v.expires_at + 1, secret), LinkError);
    const wrong = secret.slice();
    wrong[31] ^= 0x80;
    await assert.rejects(openSealed(sealed, v.id, v.expires_at, wrong), LinkError);
    await assert.rejects(openSealed(sealed.slice(0, 28), v.id, v.expires_at, secret), LinkError);
  });
}

test('a ciphertext moved to another link id does not open', async () => {
  const [hosted] = VECTORS.vectors.filter((v) => v.name === 'hosted');
  await assert.rejects(
    openPass(b64(hosted.sealed), 'local', hosted.expires_at, b64(hosted.secret)),
    /damaged or wrong link/,
  );
});

test('opening a hosted link asks the cloud with the access key, never the secret', async () => {
  const [v] = VECTORS.vectors.filter((x) => x.name === 'hosted');
  const asked = [];
  const opened = await openLink(parseLink(v.link), async (id, key) => {
    asked.push([id, key]);
    return v.sealed;
  });
  assert.deepEqual(asked, [[v.id, v.access_key]]);
  assert.equal(opened.pass.code, '048213');
  const gone = await openLink(parseLink(v.link), async () => null);
  assert.equal(gone.unavailable, true);
  await assert.rejects(openLink(parseLink(v.link), async () => 'not base64!'), LinkError);
});

test('a self-contained link opens with no request', async () => {
  const [v] = VECTORS.vectors.filter((x) => x.name === 'self-contained');
  const opened = await openLink(parseLink(v.link), () => assert.fail('no request for self-contained links'));
  assert.equal(opened.pass.lock_name, 'Front door');
});

test('malformed links are refused', () => {
  const [hosted] = VECTORS.vectors.filter((x) => x.name === 'hosted');
  const [local] = VECTORS.vectors.filter((x) => x.name === 'self-contained');
  const bad = [
    hosted.link.split('#')[0],
    hosted.link.replace('#', '#x'),
    hosted.link.replace(/\.\d+$/, ''),
    hosted.link.replace(/\.\d+$/, '.12a'),
    hosted.link.replace(/\.\d+$/, '.99999999999999999'),
    hosted.link.replace('/s/AAEC', '/s/AAE'),
    hosted.link.replace('/s/', '/x/'),
    hosted.link.replace('#AAEC', '#AAE'),
    hosted.link.replace('#AAEC', '#AA=C'),
    hosted.link.replace('https://', 'ftp://'),
    hosted.link.replace('#', '?x=1#'),
    local.link.replace('#1.', '#2.'),
    local.link.slice(0, local.link.indexOf('#') + 60),
    local.link + '!',
    `https://share.example/s/#1.${'A'.repeat(20000)}`,
  ];
  for (const link of bad) {
    assert.throws(() => parseLink(link), LinkError, link.slice(0, 120));
  }
  assert.throws(() => parseParts('/s/', ''), LinkError);
  // Non-canonical base64 (trailing bits set) is refused, as in Rust.
  assert.throws(() => base64UrlDecode('AB'), LinkError);
  assert.deepEqual([...base64UrlDecode('AA')], [0]);
});

test('passes are validated field by field', () => {
  const [v] = VECTORS.vectors;
  const good = JSON.parse(v.plaintext);
  assert.doesNotThrow(() => validatePass(good));
  const cases = [
    { ...good, version: 2 },
    { ...good, extra: 1 },
    { ...good, code: '12a4' },
    { ...good, code: '1234567890123' },
    { ...good, code: 48213 },
    { ...good, lock_name: '' },
    { ...good, lock_name: 'x'.repeat(81) },
    { ...good, lock_zone: 'Mars/Olympus' },
    { ...good, kind: 'forever' },
    { ...good, instructions: 'x'.repeat(1001) },
    { ...good, host_note: 'bell\u0007' },
    { ...good, intervals: [{ start: '2031-03-31T08:00:00Z', end: '2031-03-28T16:00:00Z' }] },
    { ...good, intervals: Array(13).fill(good.intervals[0]) },
    { ...good, first_use_minutes: 0 },
    { ...good, expires_at: good.issued_at },
    { ...good, issued_at: 'yesterday' },
  ];
  const { label, ...missing } = good;
  cases.push(missing);
  for (const pass of cases) assert.throws(() => validatePass(pass), LinkError, JSON.stringify(pass).slice(0, 80));
  assert.equal(label, 'Anna');
  const { address, ...optional } = good;
  assert.ok(address);
  assert.doesNotThrow(() => validatePass({ ...optional, instructions: 'line one\nline two' }));
});
