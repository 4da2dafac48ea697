// Shared by the wallet fixture generators and the live signers (erc8128-sign.mjs,
// siwe-sign.mjs): the fixed test keys, signature byte surgery (high-s, v), and a rebuild of the
// RFC 9421 signature base exactly as @slicekit/erc8128 0.2.0 builds it, for the few vectors the
// library refuses to sign (an `alg` parameter, expires <= created, a non-erc8128 keyid, a
// checksummed keyid). The rebuild is checked against the library on every positive vector
// (make-erc8128-vectors.mjs), so a vector signed through it is what the library would verify.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexToBigInt, keccak256, numberToHex, toBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
// The package's exports map hides package.json, so it is read from node_modules directly.
const pkgVersion = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
export const versions = {
  erc8128: pkgVersion('@slicekit/erc8128'),
  viem: require('viem/package.json').version,
};

/** secp256k1 group order n (SEC 2). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A test key derived from a fixed phrase: keccak256(utf8(phrase)). Never for real use. */
export function keyFrom(phrase) {
  return keccak256(toBytes(phrase));
}

/** The fixed test keys of the wallet fixtures, by role. All are for tests only. */
export const PHRASES = {
  signer: 'dauth-proxy test key: ERC-8128 signer',
  stranger: 'dauth-proxy test key: stranger',
  owner: 'dauth-proxy test key: EIP-1271 wallet owner',
  siwe: 'dauth-proxy test key: SIWE signer',
};

export function testKeys() {
  const out = {};
  for (const [role, phrase] of Object.entries(PHRASES)) {
    const privateKey = keyFrom(phrase);
    out[role] = { phrase, private_key: privateKey, address: privateKeyToAccount(privateKey).address };
  }
  return out;
}

/** r || s || v as hex parts. */
export function splitSignature(hex) {
  const h = hex.slice(2);
  return { r: `0x${h.slice(0, 64)}`, s: `0x${h.slice(64, 128)}`, v: h.length >= 130 ? parseInt(h.slice(128, 130), 16) : null, length: h.length / 2 };
}

/** The same signature with s replaced by n - s and the recovery bit flipped (EIP-2 malleability). */
export function flipHighS(hex) {
  const { r, s, v } = splitSignature(hex);
  const flippedV = v === 27 ? 28 : v === 28 ? 27 : v === 0 ? 1 : 0;
  return `${r}${numberToHex(SECP256K1_N - hexToBigInt(s), { size: 32 }).slice(2)}${flippedV.toString(16).padStart(2, '0')}`;
}

/** The same r || s with the last byte set to `v`. */
export function withV(hex, v) {
  return `${hex.slice(0, 130)}${v.toString(16).padStart(2, '0')}`;
}

export function hexToBase64(hex) {
  return Buffer.from(hex.slice(2), 'hex').toString('base64');
}

export function base64ToHex(b64) {
  return `0x${Buffer.from(b64, 'base64').toString('hex')}`;
}

/** RFC 8941 sf-string serialization, as the library does it. */
export function sfString(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Content-Digest member value (RFC 9530): `<alg>=:<base64 digest>:`. */
export function contentDigest(body, alg = 'sha-256') {
  const node = { 'sha-256': 'sha256', 'sha-512': 'sha512' }[alg];
  return `${alg}=:${createHash(node).update(body ?? '').digest('base64')}:`;
}

/** @authority as the library derives it from the URL: lower-case host, port unless default. */
export function authorityOf(url) {
  const u = new URL(url);
  const scheme = u.protocol.replace(':', '').toLowerCase();
  const host = u.hostname.toLowerCase();
  const port = u.port;
  if (!port) return host;
  const p = Number(port);
  if ((scheme === 'http' && p === 80) || (scheme === 'https' && p === 443)) return host;
  return `${host}:${port}`;
}

/** The value of one covered component for `request` (a fetch Request). */
export function componentValue(request, name) {
  const u = new URL(request.url);
  switch (name) {
    case '@method': return (request.method || 'GET').toUpperCase();
    case '@authority': return authorityOf(request.url);
    case '@path': return u.pathname || '/';
    case '@query': return u.search || '';
    default: {
      const v = request.headers.get(name);
      if (v == null) throw new Error(`header ${name} missing`);
      return v.trim().replace(/[ \t]+/g, ' ');
    }
  }
}

/** `("c1" "c2");created=..;expires=..[;nonce=".."][;alg=".."];keyid=".."` with the library's order. */
export function signatureParamsValue(components, params) {
  let v = `(${components.map(sfString).join(' ')})`;
  v += `;created=${params.created}`;
  v += `;expires=${params.expires}`;
  if (params.nonce != null) v += `;nonce=${sfString(params.nonce)}`;
  if (params.alg != null) v += `;alg=${sfString(params.alg)}`;
  v += `;keyid=${sfString(params.keyid)}`;
  return v;
}

/** The RFC 9421 signature base for `request`: one line per component, then @signature-params. */
export function signatureBase(request, components, paramsValue) {
  const lines = components.map((c) => `${sfString(c)}: ${componentValue(request, c)}`);
  lines.push(`${sfString('@signature-params')}: ${paramsValue}`);
  return lines.join('\n');
}

/** Splits `label=(...)...` / `label=:b64:` header values of one member. */
export function memberValue(header, label) {
  const prefix = `${label}=`;
  if (!header.startsWith(prefix)) throw new Error(`${header} is not label ${label}`);
  return header.slice(prefix.length);
}

/**
 * A fetch Request from a JSON description {method, url, headers, body}. A text body is passed as
 * its UTF-8 bytes, so fetch adds no Content-Type of its own (for a string it would add
 * text/plain): the Request carries exactly the described headers.
 */
export function toRequest({ method = 'GET', url, headers = {}, body = null }) {
  const init = { method, headers };
  if (body != null) init.body = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return new Request(url, init);
}

/** Headers of a Request as a plain object (lower-case names, the order fetch iterates them). */
export function headersObject(request) {
  const out = {};
  for (const [k, v] of request.headers) out[k] = v;
  return out;
}

/** An EthHttpSigner for the library; `address` may differ from the key's (contract wallets). */
export function httpSigner(account, chainId, { address = account.address, transform = (h) => h, onBase = () => {} } = {}) {
  return {
    chainId,
    address,
    signMessage: async (bytes) => {
      onBase(new TextDecoder().decode(bytes));
      return transform(await account.signMessage({ message: { raw: bytes } }));
    },
  };
}
