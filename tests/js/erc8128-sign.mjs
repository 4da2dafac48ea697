#!/usr/bin/env node
// Live ERC-8128 signer for the integration tests: reads one JSON request description on stdin,
// signs it with @slicekit/erc8128 (a viem local account from the given key) and prints one JSON
// object on stdout with the headers to add. Independent of the gateway's code.
//
//   echo '{"method":"POST","url":"http://127.0.0.1:8080/obp/v5.1.0/banks?x=1",
//          "headers":{"content-type":"application/json"},"body":"{}",
//          "private_key":"0x...","chain_id":1}' | node tests/js/erc8128-sign.mjs
//
// Input fields (all optional except url and private_key):
//   method ("GET"), url (absolute; its host[:port] is @authority, so send a matching Host),
//   headers ({}), body (UTF-8 text) or body_base64, private_key, chain_id (1),
//   address (the keyid address; default the key's: set it to a contract wallet for EIP-1271),
//   now (unix seconds; default the clock), created (absolute) or created_offset (from now, 0),
//   expires (absolute) or ttl (from created, 60), nonce (a string; null = no nonce; absent =
//   16 random bytes, base64url, like the library's), label ("eth"), components (extra covered
//   components, or with binding "class-bound" the whole list), binding ("request-bound"),
//   content_digest ("auto": keep a Content-Digest header given in headers, else compute
//   sha-256; "recompute"; "require"; "off"),
//   transform: {high_s: true} (s -> n - s, v flipped), {v: N} (last byte), {truncate: N bytes},
//   erc6492: {factory, factory_data} (wrap the signature for an undeployed wallet),
//   alg (adds an alg parameter; the library cannot, so the base is then built by
//   wallet-common.mjs's rebuild of the library's base, checked against the library by
//   make-erc8128-vectors.mjs; "built_by" says which).
// Output: {headers: {signature-input, signature[, content-digest]}, keyid, signer (the key's
// address), signature (hex), signature_base, created, expires, nonce, built_by}.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signRequest } from '@slicekit/erc8128';
import { serializeErc6492Signature, toBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { contentDigest, flipHighS, hexToBase64, httpSigner, signatureBase, signatureParamsValue, toRequest, withV } from './wallet-common.mjs';

// 16 random bytes, base64url, as the library makes them (its own uses globalThis.crypto, which
// Node.js 18 lacks without a flag).
const randomNonce = () => randomBytes(16).toString('base64url');

function transformFor(spec = {}, erc6492) {
  return (hex) => {
    let h = hex;
    if (spec.high_s) h = flipHighS(h);
    if (spec.v !== undefined) h = withV(h, spec.v);
    if (spec.truncate !== undefined) h = h.slice(0, 2 + 2 * spec.truncate);
    if (erc6492) h = serializeErc6492Signature({ address: erc6492.factory, data: erc6492.factory_data, signature: h });
    return h;
  };
}

async function main() {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  if (!input.url || !input.private_key) throw new Error('url and private_key are required');
  const account = privateKeyToAccount(input.private_key);
  const chainId = input.chain_id ?? 1;
  const address = input.address ?? account.address;
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const created = input.created ?? now + (input.created_offset ?? 0);
  const expires = input.expires ?? created + (input.ttl ?? 60);
  const body = input.body_base64 != null ? Buffer.from(input.body_base64, 'base64') : input.body ?? null;
  const desc = { method: input.method ?? 'GET', url: input.url, headers: input.headers ?? {}, body };
  const transform = transformFor(input.transform, input.erc6492);
  const label = input.label ?? 'eth';

  if (input.alg !== undefined) {
    return rebuilt(input, { account, chainId, address, created, expires, desc, transform, label });
  }
  let base = null;
  const signer = httpSigner(account, chainId, { address, transform, onBase: (b) => { base = b; } });
  const opts = { created, expires, label, binding: input.binding ?? 'request-bound', contentDigest: input.content_digest ?? 'auto' };
  if (input.components) opts.components = input.components;
  if (input.nonce === null) opts.replay = 'replayable';
  else opts.nonce = input.nonce ?? randomNonce();
  const signed = await signRequest(toRequest(desc), signer, opts);
  const headers = { 'signature-input': signed.headers.get('signature-input'), signature: signed.headers.get('signature') };
  const digest = signed.headers.get('content-digest');
  if (digest) headers['content-digest'] = digest;
  const params = headers['signature-input'];
  const sigB64 = headers.signature.slice(label.length + 2, -1);
  return {
    headers,
    keyid: /keyid="([^"]*)"/.exec(params)[1],
    signer: account.address,
    signature: `0x${Buffer.from(sigB64, 'base64').toString('hex')}`,
    signature_base: base,
    created,
    expires,
    nonce: /;nonce="([^"]*)"/.exec(params)?.[1] ?? null,
    built_by: 'library',
  };
}

async function rebuilt(input, { account, chainId, address, created, expires, desc, transform, label }) {
  const headers = { ...desc.headers };
  const u = new URL(desc.url);
  const components = input.components ?? ['@authority', '@method', '@path', ...(u.search ? ['@query'] : []), ...(desc.body != null ? ['content-digest'] : [])];
  if (components.includes('content-digest') && !headers['content-digest']) headers['content-digest'] = contentDigest(desc.body);
  const keyid = `erc8128:${chainId}:${address.toLowerCase()}`;
  const nonce = input.nonce === undefined ? randomNonce() : input.nonce;
  const pv = signatureParamsValue(components, { created, expires, nonce, alg: input.alg, keyid });
  const base = signatureBase(toRequest({ ...desc, headers }), components, pv);
  const signature = transform(await account.signMessage({ message: { raw: toBytes(base) } }));
  const out = { 'signature-input': `${label}=${pv}`, signature: `${label}=:${hexToBase64(signature)}:` };
  if (headers['content-digest']) out['content-digest'] = headers['content-digest'];
  return { headers: out, keyid, signer: account.address, signature, signature_base: base, created, expires, nonce, built_by: 'rebuild' };
}

main().then(
  (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
  (e) => { process.stderr.write(`erc8128-sign: ${e.message}\n`); process.exit(2); },
);
