// Writes tests/fixtures/wallets/erc8128.json: ERC-8128 signed requests made by @slicekit/erc8128
// with viem local accounts (fixed test keys, fixed times, fixed nonces: ECDSA signing is
// deterministic per RFC 6979, so a rerun reproduces the file byte for byte), each checked with
// the library's own verifier (`verifyRequest` with viem's `verifyMessage`) at the vector's `now`.
// `expected` is what the gateway must answer (issue 16); `library` is what @slicekit/erc8128
// answered; where the two differ, `disagreement` says why (high-s, alg, chain, sha-512).
// A few vectors the library refuses to sign are built through wallet-common.mjs's rebuild of the
// library's signature base, which this script first checks against the library on every
// vector the library signed.
//   cd tests/js && npm ci && node make-erc8128-vectors.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest, verifyRequest } from '@slicekit/erc8128';
import { hashMessage, toBytes, verifyMessage } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  authorityOf, base64ToHex, contentDigest, flipHighS, headersObject, hexToBase64, httpSigner, memberValue,
  signatureBase, signatureParamsValue, splitSignature, testKeys, toRequest, versions, withV,
} from './wallet-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'fixtures', 'wallets');

/** 2026-01-01T00:00:00Z: every vector's `created` is relative to it. */
export const T0 = 1767225600;
export const POLICY = { max_lifetime_secs: 300, clock_skew_secs: 60, chains: { 1: 'ETHEREUM' } };
const ORIGIN = 'http://gateway.test';
const keys = testKeys();
const signer = privateKeyToAccount(keys.signer.private_key);
const stranger = privateKeyToAccount(keys.stranger.private_key);

const JSON_BODY = '{"bank_id":"gh.29.uk","label":"My account","currency":"EUR"}';
const nonceFor = (id) => Buffer.from(toBytes(hashMessage(`dauth-proxy erc8128 nonce ${id}`)).slice(0, 16)).toString('base64url');

/** A signed request as a plain description {method, url, headers, body}. */
async function describe(request, body) {
  return { method: request.method, url: request.url, headers: headersObject(request), body: body ?? null };
}

/** Signs `desc` with the library; returns the signed description and the base it signed. */
async function libSign(id, desc, { account = signer, chainId = 1, address, transform, created = T0, expires = T0 + 60, nonce = nonceFor(id), ...opts } = {}) {
  let base = null;
  const s = httpSigner(account, chainId, { address, transform, onBase: (b) => { base = b; } });
  const signOpts = { created, expires, ...opts };
  if (nonce != null) signOpts.nonce = nonce;
  else signOpts.replay = 'replayable';
  const signed = await signRequest(toRequest(desc), s, signOpts);
  return { desc: await describe(signed, desc.body), base, signedBy: account.address };
}

/** Signs `desc` through the rebuild (for what the library will not sign). */
async function handSign(desc, { account = signer, label = 'eth', components, params }) {
  const request = toRequest(desc);
  const pv = signatureParamsValue(components, params);
  const base = signatureBase(request, components, pv);
  const sig = await account.signMessage({ message: { raw: toBytes(base) } });
  const headers = { ...headersObject(request), 'signature-input': `${label}=${pv}`, signature: `${label}=:${hexToBase64(sig)}:` };
  return { desc: { ...desc, headers }, base, signedBy: account.address };
}

/** The received request: `desc` with some parts changed after signing. */
function alter(desc, { url, method, body, set = {}, drop = [] } = {}) {
  const headers = { ...desc.headers, ...set };
  for (const h of drop) delete headers[h];
  return { method: method ?? desc.method, url: url ?? desc.url, headers, body: body === undefined ? desc.body : body };
}

async function libraryVerdict(desc, now, store = memoryStore()) {
  let r;
  try {
    r = await verifyRequest({
    request: toRequest(desc),
    verifyMessage,
    nonceStore: store,
    policy: { now: () => now, clockSkewSec: POLICY.clock_skew_secs, maxValiditySec: POLICY.max_lifetime_secs },
    });
  } catch (e) {
    // The library throws (instead of answering a reason) for a covered header that is missing.
    return { ok: false, reason: `threw ${e.code ?? e.name}`, error: e.message };
  }
  return r.ok ? { ok: true, address: r.address, chain_id: r.chainId, binding: r.binding } : { ok: false, reason: r.reason };
}

function memoryStore() {
  const seen = new Set();
  return { async consume(key) { if (seen.has(key)) return false; seen.add(key); return true; } };
}

/** Parses the one member of Signature-Input / Signature the vector carries. */
function parsed(desc) {
  const si = desc.headers['signature-input'];
  const sg = desc.headers.signature;
  if (!si || !sg) return null;
  const label = si.slice(0, si.indexOf('='));
  const pv = memberValue(si, label);
  const components = [...pv.slice(1, pv.indexOf(')')).matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  const params = {};
  for (const m of pv.slice(pv.indexOf(')') + 1).matchAll(/;([a-z]+)=("([^"]*)"|-?\d+)/g)) params[m[1]] = m[3] ?? Number(m[2]);
  const sigLabel = sg.slice(0, sg.indexOf('='));
  const sigHex = base64ToHex(sg.slice(sigLabel.length + 2, -1));
  return { label, signature_params: pv, components, params, signature: sigHex, ...splitSignature(sigHex) };
}

function record(id, description, signed, received, now, expected, library, extra = {}) {
  const p = parsed(received);
  const u = new URL(received.url);
  let receivedBase = null;
  if (p) {
    try { receivedBase = signatureBase(toRequest(received), p.components, p.signature_params); } catch (e) { receivedBase = `(cannot be built: ${e.message})`; }
  }
  const agrees = expected.ok === library.ok && (expected.ok || expected.library_reason === undefined || expected.library_reason === library.reason);
  const { library_reason, ...exp } = expected;
  return {
    id,
    description,
    now,
    request: {
      method: received.method,
      url: received.url,
      authority: authorityOf(received.url),
      path: u.pathname,
      query: u.search,
      headers: received.headers,
      body: received.body,
    },
    ...(p ? { label: p.label, components: p.components, params: p.params, signature_params: p.signature_params } : {}),
    signed_base: signed.base,
    signed_eip191_hash: signed.base == null ? null : hashMessage({ raw: toBytes(signed.base) }),
    received_base: receivedBase,
    ...(p ? { signature: p.signature, signature_length: p.length, r: p.r, s: p.s, v: p.v } : {}),
    signed_by: signed.signedBy,
    expected: exp,
    library,
    ...(agrees ? {} : { disagreement: extra.disagreement ?? 'see description' }),
    ...(extra.replay_of ? { replay_of: extra.replay_of } : {}),
  };
}

const vectors = [];
const checks = [];
async function add(id, description, signed, received, now, expected, extra = {}) {
  const library = await libraryVerdict(received, now, extra.store);
  if (expected.library_reason !== undefined && !expected.ok && library.ok) throw new Error(`${id}: library accepted`);
  if (expected.library_ok !== undefined && library.ok !== expected.library_ok) throw new Error(`${id}: library said ${JSON.stringify(library)}`);
  if (expected.library_reason !== undefined && library.reason !== expected.library_reason) throw new Error(`${id}: library said ${library.reason}, expected ${expected.library_reason}`);
  const { library_ok, ...rest } = expected;
  const v = record(id, description, signed, received, now, rest, library, extra);
  if (v.disagreement === 'see description' && !extra.disagreement) throw new Error(`${id}: unexplained disagreement`);
  vectors.push(v);
  return v;
}

// ---- positive vectors (the library signs, the library accepts, the gateway must accept) ----
const ok = (address = signer.address) => ({ ok: true, signer: address, library_ok: true });
const now = T0 + 5;

const getQuery = await libSign('get_query', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks?limit=10&sort=asc` });
await add('get_query', 'GET with a query: components @authority @method @path @query (the library\'s order).', getQuery, getQuery.desc, now, ok());

const postJson = await libSign('post_json', { method: 'POST', url: `${ORIGIN}/obp/v5.1.0/banks/gh.29.uk/accounts`, headers: { 'content-type': 'application/json' }, body: JSON_BODY });
await add('post_json', 'POST with a JSON body: the library adds Content-Digest (sha-256) and covers it.', postJson, postJson.desc, now, ok());

const getPlain = await libSign('get_no_query', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/users/current` });
await add('get_no_query', 'GET without a query: @query is not covered (nor needed).', getPlain, getPlain.desc, now, ok());

const getPort = await libSign('get_port_authority', { method: 'GET', url: 'http://Gateway.Test:8080/obp/v5.1.0/search?tag=a&tag=b&q=caf%C3%A9' });
await add('get_port_authority', 'A non-default port stays in @authority (host lower-cased); the query keeps its percent-encoding and repeated keys as sent.', getPort, getPort.desc, now, ok());

const postExtra = await libSign('post_extra_component', { method: 'PUT', url: `${ORIGIN}/obp/v5.1.0/banks/gh.29.uk/accounts/a1?dry_run=true`, headers: { 'content-type': 'application/json' }, body: JSON_BODY }, { components: ['content-type'] });
await add('post_extra_component', 'PUT with a query, a body and an extra covered header field (content-type): the gateway must build the base for every covered component.', postExtra, postExtra.desc, now, ok());

const emptyBody = await libSign('post_empty_body', { method: 'POST', url: `${ORIGIN}/obp/v5.1.0/my/logout`, headers: { 'content-type': 'application/json' }, body: '' });
await add('post_empty_body', 'POST with an empty body: the library still adds and covers Content-Digest (of zero bytes). The ERC\'s reference code only adds it for a non-empty body.', emptyBody, emptyBody.desc, now, ok());

const maxLife = await libSign('lifetime_at_limit', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { expires: T0 + POLICY.max_lifetime_secs });
await add('lifetime_at_limit', 'expires - created = 300 = max_lifetime_secs: accepted (the limit is inclusive).', maxLife, maxLife.desc, now, ok());

const atExpiry = await libSign('now_equals_expires', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` });
await add('now_equals_expires', 'now = expires: still valid (the ERC refuses only "after expires"; the library refuses now - skew > expires).', atExpiry, atExpiry.desc, T0 + 60, ok());

const vZero = await libSign('v_parity_0_1', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks?limit=10&sort=asc` }, { transform: (h) => withV(h, splitSignature(h).v - 27) });
await add('v_parity_0_1', 'The same signature with v as the y-parity 0/1 instead of 27/28: allowed ({0, 1, 27, 28}).', vZero, vZero.desc, now, ok());

const sig1 = await libSign('label_sig1', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { label: 'sig1' });
await add('label_sig1', 'Label "sig1" instead of the recommended "eth": any RFC 9421 label may be used (ERC-8128 section 2).', sig1, sig1.desc, now, ok());

const sha512 = await libSign('post_sha512_digest', { method: 'POST', url: `${ORIGIN}/obp/v5.1.0/banks/gh.29.uk/accounts`, headers: { 'content-type': 'application/json', 'content-digest': contentDigest(JSON_BODY, 'sha-512') }, body: JSON_BODY });
await add('post_sha512_digest', 'Content-Digest with sha-512 (RFC 9530), covered. The issue allows sha-256 or sha-512; the library keeps a Content-Digest the caller set, but its verifier only checks sha-256, so it refuses this.', sha512, sha512.desc, now, { ok: true, signer: signer.address, library_ok: false }, { disagreement: 'library verifies only sha-256 digests (digest_mismatch for sha-512); RFC 9530 and the issue allow sha-512' });

// ---- the rebuild agrees with the library on everything the library signed so far ----
for (const v of vectors) {
  if (v.signed_base !== v.received_base) throw new Error(`${v.id}: rebuilt base differs from the library's`);
}

const checksummed = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0 + 60, nonce: nonceFor('keyid_checksummed'), keyid: `erc8128:1:${signer.address}` } });
await add('keyid_checksummed', 'keyid with the EIP-55 (mixed-case) address, signed as such: verifiers MUST treat the hex as case-insensitive (ERC-8128 3.3.1); the base uses the keyid text as received. Built through the rebuild; the library accepts it.', checksummed, checksummed.desc, now, ok());

// ---- refusals the library also makes ----
const refuse = (reason, library_reason) => ({ ok: false, reason, library_reason });

const wrongSigner = await libSign('wrong_signer', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks?limit=10&sort=asc` }, { account: stranger, address: signer.address });
await add('wrong_signer', 'Signed by the stranger key while keyid names the signer: recovery gives the stranger, not the keyid address.', wrongSigner, wrongSigner.desc, now, refuse('bad_signature', 'bad_signature'));

const expired = await libSign('expired', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { created: T0 - 900, expires: T0 - 840 });
await add('expired', 'expires 840 s before now (beyond any skew).', expired, expired.desc, T0, refuse('expired', 'expired'));

const future = await libSign('created_in_future', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { created: T0 + 600, expires: T0 + 660 });
await add('created_in_future', 'created 600 s after now (beyond the 60 s skew).', future, future.desc, T0, refuse('not_yet_valid', 'not_yet_valid'));

const tooLong = await libSign('lifetime_too_long', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { expires: T0 + POLICY.max_lifetime_secs + 1 });
await add('lifetime_too_long', 'expires - created = 301 > max_lifetime_secs (300).', tooLong, tooLong.desc, now, refuse('lifetime_too_long', 'validity_too_long'));

const equal = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0, nonce: nonceFor('expires_not_after_created'), keyid: `erc8128:1:${signer.address.toLowerCase()}` } });
await add('expires_not_after_created', 'expires = created (the library will not sign it; built through the rebuild).', equal, equal.desc, T0, refuse('bad_time', 'bad_time'));

const noNonce = await libSign('nonce_missing', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { nonce: null });
await add('nonce_missing', 'No nonce parameter (a "replayable" signature): refused, nonce is required.', noNonce, noNonce.desc, now, refuse('nonce_required', 'replayable_not_allowed'));

const emptyNonce = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0 + 60, nonce: '', keyid: `erc8128:1:${signer.address.toLowerCase()}` } });
await add('nonce_empty', 'nonce="" (built through the rebuild): an empty nonce is no nonce.', emptyNonce, emptyNonce.desc, now, refuse('nonce_required', 'replayable_not_allowed'));

{
  const store = memoryStore();
  const first = await libraryVerdict(getQuery.desc, now, store);
  if (!first.ok) throw new Error('replay: first use refused');
  await add('replay', 'The get_query request again, after it was accepted once: the (keyid, nonce) pair is consumed. Send get_query first, then this.', getQuery, getQuery.desc, now + 1, refuse('replay', 'replay'), { store, replay_of: 'get_query' });
}

const classBody = await libSign('digest_missing_with_body', { method: 'POST', url: `${ORIGIN}/obp/v5.1.0/banks/gh.29.uk/accounts`, headers: { 'content-type': 'application/json' }, body: JSON_BODY }, { binding: 'class-bound', components: ['@authority', '@method', '@path'], contentDigest: 'off' });
await add('digest_missing_with_body', 'A body but no Content-Digest at all, and none covered (a class-bound signature).', classBody, classBody.desc, now, refuse('not_request_bound', 'not_request_bound'));

const digestNotCovered = { ...classBody, desc: alter(classBody.desc, { set: { 'content-digest': contentDigest(JSON_BODY) } }) };
await add('digest_present_not_covered', 'A correct Content-Digest header is sent but not covered by the signature.', classBody, digestNotCovered.desc, now, refuse('not_request_bound', 'not_request_bound'));

await add('digest_covered_header_removed', 'content-digest is covered, but the header was removed in transit.', postJson, alter(postJson.desc, { drop: ['content-digest'] }), now, refuse('digest_required', 'digest_required'));

await add('covered_header_missing', 'post_extra_component with its covered content-type header removed in transit. The library\'s verifier throws (BAD_HEADER_VALUE) instead of answering a reason; the gateway must answer a clean 401.', postExtra, alter(postExtra.desc, { drop: ['content-type'] }), now, refuse('covered_header_missing', 'threw BAD_HEADER_VALUE'));

const changedBody = JSON_BODY.replace('EUR', 'USD');
await add('body_changed', 'The body was changed after signing; Content-Digest left as signed.', postJson, alter(postJson.desc, { body: changedBody }), now, refuse('digest_mismatch', 'digest_mismatch'));

await add('body_changed_digest_recomputed', 'The body was changed after signing and Content-Digest recomputed for it: the digest matches, the signature does not.', postJson, alter(postJson.desc, { body: changedBody, set: { 'content-digest': contentDigest(changedBody) } }), now, refuse('bad_signature', 'bad_signature'));

const classQuery = await libSign('query_not_covered', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks?limit=10&sort=asc` }, { binding: 'class-bound', components: ['@authority', '@method', '@path'] });
await add('query_not_covered', 'A request with a query whose signature does not cover @query (class-bound).', classQuery, classQuery.desc, now, refuse('not_request_bound', 'not_request_bound'));

await add('query_added_after_signing', 'Signed without a query (get_no_query); a query was appended in transit.', getPlain, alter(getPlain.desc, { url: `${getPlain.desc.url}?as_admin=true` }), now, refuse('not_request_bound', 'not_request_bound'));

await add('query_changed', 'get_query with limit=10 changed to limit=1000.', getQuery, alter(getQuery.desc, { url: getQuery.desc.url.replace('limit=10', 'limit=1000') }), now, refuse('bad_signature', 'bad_signature'));

await add('path_changed', 'get_no_query sent to another path.', getPlain, alter(getPlain.desc, { url: `${ORIGIN}/obp/v5.1.0/users` }), now, refuse('bad_signature', 'bad_signature'));

await add('method_changed', 'get_no_query sent as DELETE.', getPlain, alter(getPlain.desc, { method: 'DELETE' }), now, refuse('bad_signature', 'bad_signature'));

await add('authority_changed', 'get_no_query sent to another host (Host: other.test).', getPlain, alter(getPlain.desc, { url: getPlain.desc.url.replace('gateway.test', 'other.test') }), now, refuse('bad_signature', 'bad_signature'));

{
  const d = getQuery.desc;
  const injected = alter(d, { set: { 'signature-input': d.headers['signature-input'].replace(';keyid=', ';alg="ecdsa-p256-sha256";keyid=') } });
  await add('alg_injected', 'An alg parameter inserted into get_query\'s Signature-Input after signing: the base changes, so the signature fails (and alg is refused anyway).', getQuery, injected, now, refuse('alg_not_allowed', 'bad_signature'));
}

const truncated = await libSign('signature_64_bytes', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { transform: (h) => h.slice(0, 130) });
await add('signature_64_bytes', 'Only r || s (64 bytes, no v).', truncated, truncated.desc, now, refuse('bad_signature_length', 'bad_signature_check'));

for (const v of [29, 2, 35, 37]) {
  const bad = await libSign(`v_${v}`, { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { transform: (h) => withV(h, v) });
  await add(`v_${v}`, `v = ${v} (outside {0, 1, 27, 28}; ${v >= 35 ? 'an EIP-155 transaction-style v' : 'not a recovery id'}). viem refuses to recover it.`, bad, bad.desc, now, refuse('bad_v', 'bad_signature_check'));
}

const badKeyid = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0 + 60, nonce: nonceFor('keyid_not_erc8128'), keyid: `eip155:1:${signer.address.toLowerCase()}` } });
await add('keyid_not_erc8128', 'keyid "eip155:1:0x..." (CAIP-10 namespace, not erc8128).', badKeyid, badKeyid.desc, now, refuse('bad_keyid', 'bad_keyid'));

const shortKeyid = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0 + 60, nonce: nonceFor('keyid_short_address'), keyid: `erc8128:1:${signer.address.toLowerCase().slice(0, 41)}` } });
await add('keyid_short_address', 'keyid address of 39 hex digits.', shortKeyid, shortKeyid.desc, now, refuse('bad_keyid', 'bad_keyid'));

await add('signature_header_missing', 'Signature-Input without Signature.', getPlain, alter(getPlain.desc, { drop: ['signature'] }), now, refuse('missing_headers', 'missing_headers'));

await add('label_mismatch', 'Signature-Input labelled eth, Signature labelled sig: no signature for the label.', getPlain, alter(getPlain.desc, { set: { signature: getPlain.desc.headers.signature.replace(/^eth=/, 'sig=') } }), now, refuse('label_not_found', 'label_not_found'));

// ---- refusals the issue demands that the library does not make ----
const highS = await libSign('high_s', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks?limit=10&sort=asc` }, { transform: flipHighS });
await add('high_s', 'The signer\'s signature with s replaced by n - s and v flipped (27 <-> 28): recovers to the same address. The issue (EIP-2) refuses it; viem, and so the library, accept it.', highS, highS.desc, now, { ok: false, reason: 'high_s', library_ok: true }, { disagreement: 'viem recovers high-s signatures; the issue requires refusing s > n/2' });

const withAlg = await handSign({ method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks`, headers: {} }, { components: ['@authority', '@method', '@path'], params: { created: T0, expires: T0 + 60, nonce: nonceFor('alg_present'), alg: 'ecdsa-p256-sha256', keyid: `erc8128:1:${signer.address.toLowerCase()}` } });
await add('alg_present', 'A correctly signed signature whose parameters include alg="ecdsa-p256-sha256" (built through the rebuild). The ERC says verifiers should reject alg and the issue refuses it; the library ignores unknown parameters and accepts.', withAlg, withAlg.desc, now, { ok: false, reason: 'alg_not_allowed', library_ok: true }, { disagreement: 'the library parses but ignores alg (its type lists "alg_not_allowed", the code never returns it)' });

const chain5 = await libSign('wrong_chain', { method: 'GET', url: `${ORIGIN}/obp/v5.1.0/banks` }, { chainId: 5 });
await add('wrong_chain', 'A valid signature with keyid erc8128:5:...; chain 5 is not in wallets.chains. The library returns chainId 5 and leaves the policy to the caller.', chain5, chain5.desc, now, { ok: false, reason: 'chain_not_allowed', library_ok: true }, { disagreement: 'chain policy is the application\'s (the library has none)' });

const out = {
  generator: `@slicekit/erc8128 ${versions.erc8128} with viem ${versions.viem} local accounts (tests/js/make-erc8128-vectors.mjs)`,
  about: 'ERC-8128 signed requests. request.headers is what to send (plus Host: request.authority); verify at `now` (unix seconds) under `policy`. expected = what the gateway must do (issue 16); library = what @slicekit/erc8128 verifyRequest answered with viem verifyMessage, clockSkewSec and maxValiditySec from policy and a fresh in-memory nonce store (replay: the store after the original was accepted). signed_base is the RFC 9421 signature base the signer signed; received_base is the base rebuilt from the received request; signed_eip191_hash = keccak256("\\x19Ethereum Signed Message:\\n" || len || signed_base). See FACTS.md.',
  keys: { signer: keys.signer, stranger: keys.stranger, note: 'test-only keys: private_key = keccak256(utf8(phrase))' },
  policy: POLICY,
  t0: T0,
  vectors,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'erc8128.json'), JSON.stringify(out, null, 2) + '\n');
const dis = vectors.filter((v) => v.disagreement).map((v) => v.id);
console.log(`erc8128.json: ${vectors.length} vectors (${vectors.filter((v) => v.expected.ok).length} accepted), library disagrees on: ${dis.join(', ')}`);
