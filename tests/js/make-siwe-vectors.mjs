// Writes tests/fixtures/wallets/siwe.json: Sign-In with Ethereum (EIP-4361) vectors in the
// shape of spruceid's test suite (parsing_positive, parsing_negative, verification_positive,
// verification_negative). spruceid's own JSON files are not shipped in any registry package
// (npm siwe 1.1.6/2.3.2/3.0.0, @spruceid/siwe-parser 1.1.3/2.1.2/3.0.0, PyPI siwe
// 2.4.1/4.0.0/4.4.0 were checked), so
// these are written here: messages by viem's createSiweMessage where viem can make them, by hand
// (marked made_by "hand") where it cannot (no milliseconds, offsets, userinfo, empty fields);
// signatures by viem local accounts with fixed test keys (deterministic, RFC 6979). Every
// message is checked with @spruceid/siwe-parser's ABNF parser (an independent implementation
// of the EIP-4361 grammar, EIP-55 and RFC 3339 checks): parsing_positive and all verification
// messages must parse, parsing_negative must not. viem's lenient regex parser and
// validateSiweMessage are recorded next to each case (`viem`), to show where a viem-style parser
// would let a bad message through.
//   cd tests/js && npm ci && node make-siwe-vectors.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashMessage, isAddressEqual, recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage, parseSiweMessage, validateSiweMessage } from 'viem/siwe';
import { flipHighS, splitSignature, testKeys, versions, withV } from './wallet-common.mjs';

const require = createRequire(import.meta.url);
const { ParsedMessage } = require('@spruceid/siwe-parser');
const spruceVersion = require('@spruceid/siwe-parser/package.json').version;
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'fixtures', 'wallets');

const T0 = 1767225600; // 2026-01-01T00:00:00Z
const iso = (t) => new Date(t * 1000).toISOString();
const keys = testKeys();
const account = privateKeyToAccount(keys.siwe.private_key);
const stranger = privateKeyToAccount(keys.stranger.private_key);
const NONCE = 'Qh7fJ2kWm9RtX4bZ';
const CONFIG = { domain: 'gateway.test', uri: 'https://gateway.test/auth/siwe/login', chains: { 1: 'ETHEREUM' }, clock_skew_secs: 60, now: T0 + 60, now_iso: iso(T0 + 60), issued_nonce: NONCE };

const BASE = {
  domain: CONFIG.domain,
  address: account.address,
  statement: 'Sign in to the dauth-proxy gateway.',
  uri: CONFIG.uri,
  version: '1',
  chainId: 1,
  nonce: NONCE,
  issuedAt: new Date(T0 * 1000),
};
const ALL = {
  ...BASE,
  expirationTime: new Date((T0 + 600) * 1000),
  notBefore: new Date(T0 * 1000),
  requestId: 'req-42',
  resources: ['ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/', 'https://gateway.test/obp/v5.1.0/users/current'],
};

/** spruceid's field names, values as text (as spruceid's vectors write them). */
function textFields(f) {
  const out = { domain: f.domain, address: f.address };
  if (f.statement) out.statement = f.statement;
  out.uri = f.uri;
  out.version = f.version;
  out.chainId = f.chainId;
  out.nonce = f.nonce;
  out.issuedAt = f.issuedAt instanceof Date ? f.issuedAt.toISOString() : f.issuedAt;
  for (const k of ['expirationTime', 'notBefore']) if (f[k]) out[k] = f[k] instanceof Date ? f[k].toISOString() : f[k];
  if (f.requestId !== undefined) out.requestId = f.requestId;
  if (f.resources) out.resources = f.resources;
  if (f.scheme) out.scheme = f.scheme;
  return out;
}

function spruce(message) {
  try {
    const p = new ParsedMessage(message);
    const fields = { domain: p.domain, address: p.address };
    if (p.statement) fields.statement = p.statement;
    Object.assign(fields, { uri: p.uri, version: p.version, chainId: p.chainId, nonce: p.nonce, issuedAt: p.issuedAt });
    for (const k of ['expirationTime', 'notBefore', 'requestId', 'resources', 'scheme']) if (p[k] !== undefined) fields[k] = p[k];
    return { ok: true, fields };
  } catch (e) {
    return { ok: false, error: e.message.split('\n')[0].slice(0, 160) };
  }
}

function viemParse(message, { domain = CONFIG.domain, nonce, now = CONFIG.now } = {}) {
  const parsed = parseSiweMessage(message);
  const complete = ['domain', 'address', 'uri', 'version', 'chainId', 'nonce', 'issuedAt'].every((k) => parsed[k] !== undefined);
  const valid = complete && validateSiweMessage({ message: parsed, domain, nonce, time: new Date(now * 1000) });
  return { parsed: complete, valid };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------- parsing_positive
const parsingPositive = {};
function positive(name, message, fields, madeBy) {
  const s = spruce(message);
  if (!s.ok) throw new Error(`parsing_positive ${name}: spruce refused: ${s.error}`);
  if (!same(s.fields, fields)) throw new Error(`parsing_positive ${name}: spruce fields ${JSON.stringify(s.fields)} != ${JSON.stringify(fields)}`);
  const v = viemParse(message, { domain: fields.domain, nonce: fields.nonce, now: T0 + 60 });
  parsingPositive[name] = { message, fields, made_by: madeBy, viem: v };
}
function viemMade(name, f) {
  positive(name, createSiweMessage(f), textFields(f), `viem ${versions.viem} createSiweMessage`);
}
const noStatement = { ...BASE, statement: undefined };
viemMade('no optional field', noStatement);
viemMade('statement only', BASE);
viemMade('all optional fields', ALL);
viemMade('explicit scheme', { ...BASE, scheme: 'https' });
viemMade('domain with port', { ...BASE, domain: 'gateway.test:8443' });
viemMade('domain is an IPv4 address with port', { ...BASE, domain: '127.0.0.1:8080' });
viemMade('domain is localhost with port', { ...BASE, domain: 'localhost:3000' });
viemMade('nonce of 8 characters', { ...BASE, nonce: 'abcd1234' });
viemMade('large chain id', { ...BASE, chainId: 11155111 });
viemMade('empty resources list', { ...BASE, resources: [] });
{
  const m = createSiweMessage(BASE).replace('.000Z', 'Z');
  positive('timestamp without milliseconds', m, { ...textFields(BASE), issuedAt: '2026-01-01T00:00:00Z' }, 'hand (viem always writes milliseconds)');
  const o = createSiweMessage(BASE).replace('2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00+01:00');
  positive('timestamp with a UTC offset', o, { ...textFields(BASE), issuedAt: '2026-01-01T01:00:00+01:00' }, 'hand (viem always writes UTC)');
  const u = createSiweMessage({ ...BASE, domain: '127.0.0.1:8080' }).replace('127.0.0.1:8080', 'test@127.0.0.1:8080');
  positive('domain with userinfo and port', u, { ...textFields(BASE), domain: 'test@127.0.0.1:8080' }, 'hand (viem refuses userinfo)');
  const r = createSiweMessage(BASE).replace(/(Issued At: [^\n]*)/, '$1\nRequest ID: ');
  positive('empty request id', r, { ...textFields(BASE), requestId: '' }, 'hand (viem omits an empty request id)');
}

// ---------------------------------------------------------------- parsing_negative
const parsingNegative = {};
const allMessage = createSiweMessage(ALL);
function negative(name, message, why) {
  const s = spruce(message);
  if (s.ok) throw new Error(`parsing_negative ${name}: spruce accepted it`);
  if (message === allMessage) throw new Error(`${name}: unchanged`);
  parsingNegative[name] = { message, why, spruce_error: s.error, viem: viemParse(message, { nonce: NONCE }) };
}
const lines = allMessage.split('\n');
const without = (prefix) => lines.filter((l) => !l.startsWith(prefix)).join('\n');
const swap = (a, b) => {
  const i = lines.findIndex((l) => l.startsWith(a));
  const j = lines.findIndex((l) => l.startsWith(b));
  const c = [...lines];
  [c[i], c[j]] = [c[j], c[i]];
  return c.join('\n');
};
negative('missing uri', without('URI: '), 'URI is required');
negative('missing version', without('Version: '), 'Version is required');
negative('missing chain id', without('Chain ID: '), 'Chain ID is required');
negative('missing nonce', without('Nonce: '), 'Nonce is required');
negative('missing issued at', without('Issued At: '), 'Issued At is required');
negative('missing domain', allMessage.replace(/^gateway\.test /, ' '), 'domain is required');
negative('missing address', allMessage.replace(`${account.address}\n`, '\n'), 'address is required');
negative('uri and version out of order', swap('URI: ', 'Version: '), 'fields have a fixed order');
negative('nonce and issued at out of order', swap('Nonce: ', 'Issued At: '), 'fields have a fixed order');
negative('expiration time and not before out of order', swap('Expiration Time: ', 'Not Before: '), 'fields have a fixed order');
negative('request id after resources', [...lines.filter((l) => !l.startsWith('Request ID: ')), 'Request ID: req-42'].join('\n'), 'fields have a fixed order');
negative('wrong version', allMessage.replace('Version: 1', 'Version: 2'), 'version must be 1');
negative('extra line break after address', allMessage.replace(`${account.address}\n`, `${account.address}\n\n`), 'exactly one empty line after the address');
negative('no empty line before uri', allMessage.replace(`${ALL.statement}\n\nURI`, `${ALL.statement}\nURI`), 'the statement is followed by an empty line');
negative('crlf line endings', allMessage.replace(/\n/g, '\r\n'), 'lines end with LF only');
negative('trailing line feed', `${allMessage}\n`, 'nothing after the last field');
negative('issued at not rfc 3339', allMessage.replace(/Issued At: [^\n]*/, 'Issued At: Wed Oct 05 2011 16:48:00 GMT+0200 (CEST)'), 'RFC 3339 date-time');
negative('issued at without time zone', allMessage.replace(/Issued At: [^\n]*/, 'Issued At: 2026-01-01T00:00:00'), 'RFC 3339 needs Z or an offset');
negative('issued at impossible date', allMessage.replace(/Issued At: [^\n]*/, 'Issued At: 2026-02-30T00:00:00Z'), 'February has no 30th');
negative('expiration time not rfc 3339', allMessage.replace(/Expiration Time: [^\n]*/, 'Expiration Time: tomorrow'), 'RFC 3339 date-time');
negative('not before not rfc 3339', allMessage.replace(/Not Before: [^\n]*/, 'Not Before: 1767225600'), 'RFC 3339 date-time, not a unix time');
negative('nonce shorter than 8', allMessage.replace(`Nonce: ${NONCE}`, 'Nonce: Qh7fJ2k'), 'nonce = 8*( ALPHA / DIGIT )');
negative('nonce not alphanumeric', allMessage.replace(`Nonce: ${NONCE}`, 'Nonce: Qh7fJ2kW-m9RtX4b'), 'nonce = 8*( ALPHA / DIGIT )');
negative('chain id not a number', allMessage.replace('Chain ID: 1', 'Chain ID: ?'), 'chain-id = 1*DIGIT');
negative('chain id negative', allMessage.replace('Chain ID: 1', 'Chain ID: -1'), 'chain-id = 1*DIGIT');
negative('address not eip-55', allMessage.replace(account.address, account.address.toLowerCase()), 'the address must carry its EIP-55 checksum (spruceid refuses all-lower-case, as in its parsing_negative "address not EIP-55")');
{
  const a = account.address;
  const i = [...a].findIndex((c, k) => k > 1 && /[a-f]/i.test(c));
  const flipped = a.slice(0, i) + (a[i] === a[i].toUpperCase() ? a[i].toLowerCase() : a[i].toUpperCase()) + a.slice(i + 1);
  negative('address with a wrong checksum', allMessage.replace(a, flipped), 'one letter\'s case changed: the EIP-55 checksum fails');
}
negative('address too short', allMessage.replace(account.address, account.address.slice(0, 41)), 'address = "0x" 40HEXDIG');
negative('statement with a line break', allMessage.replace(ALL.statement, 'Sign in to the\ndauth-proxy gateway.'), 'the statement must not contain LF');
negative('statement with a character outside reserved and unreserved', allMessage.replace(ALL.statement, 'Sign in to the "dauth-proxy" gateway.'), 'statement = *( reserved / unreserved / " " ) (RFC 3986): no double quote');
negative('uri not rfc 3986', allMessage.replace(`URI: ${CONFIG.uri}`, 'URI: _not_a_rfc3986_valid_uri_'), 'uri = URI (RFC 3986)');
negative('resources not separated by line breaks', allMessage.replace(`\n- ${ALL.resources[1]}`, ` - ${ALL.resources[1]}`), 'each resource on its own "- " line');
negative('resource not rfc 3986', allMessage.replace(`- ${ALL.resources[1]}`, '- _not_a_rfc3986_valid_uri_'), 'resource = "- " URI');
negative('unknown field', allMessage.replace(/(Issued At: [^\n]*)/, '$1\nFoo: bar'), 'no other fields');
negative('duplicate nonce line', allMessage.replace(`Nonce: ${NONCE}`, `Nonce: ${NONCE}\nNonce: ${NONCE}`), 'each field once');
negative('lower-case field name', allMessage.replace('URI: ', 'uri: '), 'field names are case-sensitive (%s)');
negative('preamble in other case', allMessage.replace('Ethereum account', 'ethereum account'), 'the preamble is case-sensitive (%s)');
negative('empty message', '', 'nothing to parse');
negative('two spaces after a field name', allMessage.replace(`Nonce: ${NONCE}`, `Nonce:  ${NONCE}`), 'exactly ": " between name and value');
negative('domain with a path', allMessage.replace(/^gateway\.test /, 'gateway.test/login '), 'domain = authority: no path');

// ---------------------------------------------------------------- verification
const verificationPositive = {};
const verificationNegative = {};
async function recovered(message, signature) {
  try { return await recoverMessageAddress({ message, signature }); } catch { return null; }
}
async function verification(table, name, { fields, message, signer = account, transform = (s) => s, config = {}, expected, why, madeBy }) {
  const text = message ?? createSiweMessage(fields);
  const signature = transform(await signer.signMessage({ message: text }));
  const cfg = { ...CONFIG, ...config };
  const s = spruce(text);
  const v = viemParse(text, { domain: cfg.domain, nonce: cfg.issued_nonce, now: cfg.now });
  const rec = await recovered(text, signature);
  const claimed = s.ok ? s.fields.address : parseSiweMessage(text).address;
  const viem = { ...v, signature_recovers_to: rec, signature_ok: rec != null && claimed != null && isAddressEqual(rec, claimed) };
  const entry = {
    message: text,
    ...(s.ok ? { fields: s.fields } : {}),
    signature,
    ...splitSignature(signature),
    eip191_hash: hashMessage(text),
    signed_by: signer.address,
    made_by: madeBy ?? (message ? 'hand' : `viem ${versions.viem} createSiweMessage`),
    config: cfg,
    expected,
    ...(why ? { why } : {}),
    viem,
  };
  if (expected.ok && !(s.ok && v.valid && viem.signature_ok)) throw new Error(`verification_positive ${name}: not valid for spruce/viem`);
  table[name] = entry;
}
const P = (name, o) => verification(verificationPositive, name, { ...o, expected: { ok: true, address: account.address } });
const N = (name, reason, o) => verification(verificationNegative, name, { ...o, expected: { ok: false, reason } });

await P('example message', { fields: { ...BASE, expirationTime: new Date((T0 + 600) * 1000) } });
await P('no optional field', { fields: noStatement });
await P('all optional fields', { fields: ALL });
await P('recovery byte 0 or 1', { fields: BASE, transform: (s) => withV(s, splitSignature(s).v - 27), why: 'v as y-parity 0/1 (as some wallets, e.g. Ledger, return it); spruceid has "recovery byte starting at 0"' });
await P('not before equals now', { fields: { ...BASE, notBefore: new Date(CONFIG.now * 1000) }, why: 'valid from Not Before on (inclusive)' });
await P('issued at within the clock skew', { fields: { ...BASE, issuedAt: new Date((CONFIG.now + 30) * 1000) }, why: 'Issued At 30 s ahead of now, within clock_skew_secs = 60' });
await P('timestamp without milliseconds', { message: createSiweMessage(BASE).replace('.000Z', 'Z') });

await N('expired message', 'expired', { fields: { ...BASE, expirationTime: new Date(T0 * 1000) } });
await N('expiration time equals now', 'expired', { fields: { ...BASE, expirationTime: new Date(CONFIG.now * 1000) }, why: 'no longer valid at Expiration Time (viem: time >= expirationTime)' });
await N('not yet valid', 'not_yet_valid', { fields: { ...BASE, notBefore: new Date((T0 + 600) * 1000) } });
await N('issued in the future', 'issued_in_future', { fields: { ...BASE, issuedAt: new Date((CONFIG.now + 600) * 1000) }, why: 'Issued At 600 s after now (beyond the skew). viem\'s validateSiweMessage does not check Issued At; the issue does' });
await N('domain binding', 'domain_mismatch', { fields: { ...BASE, domain: 'other.test' }, why: 'the message names another domain than wallets.domain' });
await N('uri binding', 'uri_mismatch', { fields: { ...BASE, uri: 'https://other.test/auth/siwe/login' }, why: 'the message names another URI than wallets.uri (viem does not check the URI)' });
await N('chain not allowed', 'chain_not_allowed', { fields: { ...BASE, chainId: 5 }, why: 'chain 5 is not in wallets.chains (viem does not check the chain)' });
await N('custom nonce', 'nonce_unknown', { fields: BASE, config: { issued_nonce: 'Zz9yX8wV7uT6sR5q' }, why: 'the gateway issued another nonce (spruceid "custom nonce")' });
await N('wrong signature', 'bad_signature', { fields: BASE, signer: stranger, why: 'signed by the stranger key; the message names the SIWE signer' });
await N('message altered after signing', 'bad_signature', { fields: BASE, transform: (s) => s, why: 'set below: the signature is of the unaltered message' });
await N('malformed signature', 'bad_signature', { fields: BASE, transform: (s) => `${s}00`, why: '66 bytes' });
await N('truncated signature', 'bad_signature', { fields: BASE, transform: (s) => s.slice(0, 130), why: '64 bytes, no v' });
await N('high-s signature', 'high_s', { fields: BASE, transform: flipHighS, why: 's replaced by n - s and v flipped: recovers to the signer, but EIP-2 forbids it; viem accepts it' });
await N('v outside 0, 1, 27, 28', 'bad_v', { fields: BASE, transform: (s) => withV(s, 29), why: 'v = 29' });
{
  // The signature of BASE's message, presented with the statement changed.
  const e = verificationNegative['message altered after signing'];
  e.message = e.message.replace(BASE.statement, 'Sign in to the dauth-proxy gateway as admin.');
  e.fields = spruce(e.message).fields;
  e.eip191_hash = hashMessage(e.message);
  e.why = 'the statement was changed after signing';
  const rec = await recovered(e.message, e.signature);
  e.viem = { ...viemParse(e.message, { nonce: NONCE }), signature_recovers_to: rec, signature_ok: rec != null && isAddressEqual(rec, account.address) };
}
for (const [name, e] of Object.entries(verificationNegative)) {
  const acceptedByViem = e.viem.parsed && e.viem.valid && e.viem.signature_ok;
  if (acceptedByViem) e.viem_would_accept = true;
  if (!spruce(e.message).ok) throw new Error(`verification_negative ${name}: its message must parse`);
}

const out = {
  generator: `viem ${versions.viem} (createSiweMessage, local accounts), checked with @spruceid/siwe-parser ${spruceVersion} (tests/js/make-siwe-vectors.mjs)`,
  about: 'EIP-4361 vectors in the layout of spruceid\'s siwe test suite, written here because spruceid\'s files are in no registry package. fields use spruceid\'s names with text values. verification_*: verify `message` + `signature` under `config` (the gateway\'s wallets.domain, wallets.uri, wallets.chains, clock_skew_secs, the time `now` and the nonce it issued); expected = what the gateway must do (issue 16). viem = what viem\'s parseSiweMessage + validateSiweMessage({domain, nonce, time}) + recoverMessageAddress said; viem_would_accept marks the refusals that viem alone would not make (no Issued At, URI, chain or high-s checks). parsing_negative: each is refused by @spruceid/siwe-parser (spruce_error); viem.parsed/valid show how lenient a regex parser is. See FACTS.md.',
  keys: { siwe: keys.siwe, stranger: keys.stranger, note: 'test-only keys: private_key = keccak256(utf8(phrase))' },
  config: CONFIG,
  parsing_positive: parsingPositive,
  parsing_negative: parsingNegative,
  verification_positive: verificationPositive,
  verification_negative: verificationNegative,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'siwe.json'), JSON.stringify(out, null, 2) + '\n');
const lenient = Object.entries(parsingNegative).filter(([, e]) => e.viem.parsed && e.viem.valid).map(([n]) => n);
console.log(`siwe.json: ${Object.keys(parsingPositive).length} parsing_positive, ${Object.keys(parsingNegative).length} parsing_negative (viem lets through: ${lenient.join('; ')}), ${Object.keys(verificationPositive).length} verification_positive, ${Object.keys(verificationNegative).length} verification_negative (viem would accept: ${Object.entries(verificationNegative).filter(([, e]) => e.viem_would_accept).map(([n]) => n).join('; ')})`);
