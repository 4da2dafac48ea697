#!/usr/bin/env node
// Live SIWE (EIP-4361) signer for the integration tests: reads one JSON object on stdin, builds
// the message with viem's createSiweMessage (or takes `message` as given) and signs it with
// EIP-191 personal_sign by a viem local account. Prints {message, signature, address} as one
// JSON line. Independent of the gateway's code.
//
//   echo '{"private_key":"0x...","domain":"gateway.test","uri":"http://gateway.test/auth/siwe/login",
//          "chain_id":1,"nonce":"abcdefgh12345678","issued_at":"2026-01-01T00:00:00Z"}' |
//     node tests/js/siwe-sign.mjs
//
// Input fields: private_key (required); message (sign this text as is; the fields below are then
// ignored) or domain, uri, chain_id (1), nonce (>= 8 alphanumerics), issued_at (RFC 3339 text
// or unix seconds; default now), expiration_time, not_before (same forms), statement,
// request_id, resources (list of URIs), scheme, version ("1"), address (the message's address;
// default the key's, set it to a contract wallet for EIP-1271);
// transform: {high_s: true} | {v: N} | {truncate: N bytes}; erc6492: {factory, factory_data}.
// viem writes times with milliseconds (toISOString: 2026-01-01T00:00:00.000Z).
import { readFileSync } from 'node:fs';
import { serializeErc6492Signature } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { flipHighS, withV } from './wallet-common.mjs';

const toDate = (v) => (v == null ? undefined : typeof v === 'number' ? new Date(v * 1000) : new Date(v));

async function main() {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  if (!input.private_key) throw new Error('private_key is required');
  const account = privateKeyToAccount(input.private_key);
  const address = input.address ?? account.address;
  const message = input.message ?? createSiweMessage({
    address,
    chainId: input.chain_id ?? 1,
    domain: input.domain,
    uri: input.uri,
    nonce: input.nonce,
    version: input.version ?? '1',
    issuedAt: toDate(input.issued_at) ?? new Date(),
    expirationTime: toDate(input.expiration_time),
    notBefore: toDate(input.not_before),
    statement: input.statement,
    requestId: input.request_id,
    resources: input.resources,
    scheme: input.scheme,
  });
  let signature = await account.signMessage({ message });
  const t = input.transform ?? {};
  if (t.high_s) signature = flipHighS(signature);
  if (t.v !== undefined) signature = withV(signature, t.v);
  if (t.truncate !== undefined) signature = signature.slice(0, 2 + 2 * t.truncate);
  if (input.erc6492) signature = serializeErc6492Signature({ address: input.erc6492.factory, data: input.erc6492.factory_data, signature });
  return { message, signature, address, signer: account.address };
}

main().then(
  (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
  (e) => { process.stderr.write(`siwe-sign: ${e.message}\n`); process.exit(2); },
);
