// Checks the live signers against the checked-in vectors: erc8128-sign.mjs and siwe-sign.mjs,
// given the inputs of a vector (key, request, created, expires, nonce), must print exactly the
// vector's headers / message and signature. So a test that signs at run time gets what the
// vectors were made of. Also checks that a freshly signed request (clock time, random nonce)
// verifies with @slicekit/erc8128. Writes nothing; exits non-zero on a mismatch.
//   cd tests/js && npm ci && node check-signers.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyRequest } from '@slicekit/erc8128';
import { verifyMessage } from 'viem';
import { toRequest } from './wallet-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const read = (p) => JSON.parse(readFileSync(join(here, '..', 'fixtures', 'wallets', p), 'utf8'));
const run = (script, input) => JSON.parse(execFileSync(process.execPath, [join(here, script)], { input: JSON.stringify(input) }).toString());
let failures = 0;
// Header objects compare by content: key order is not part of a header set.
const canon = (x) => JSON.stringify(x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x);
const check = (what, got, want) => {
  const same = canon(got) === canon(want);
  if (!same) failures += 1;
  console.log(`${same ? 'ok  ' : 'FAIL'} ${what}${same ? '' : `: ${JSON.stringify(got)} != ${JSON.stringify(want)}`}`);
};

const e = read('erc8128.json');
const byId = Object.fromEntries(e.vectors.map((v) => [v.id, v]));
const sigHeaders = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => ['signature-input', 'signature', 'content-digest'].includes(k)));
const cases = [
  ['get_query', {}],
  ['post_json', { headers: { 'content-type': 'application/json' } }],
  ['post_extra_component', { headers: { 'content-type': 'application/json' }, components: ['content-type'] }],
  ['get_port_authority', {}],
  ['high_s', { transform: { high_s: true } }],
  ['v_29', { transform: { v: 29 } }],
  ['wrong_chain', { chain_id: 5 }],
  ['nonce_missing', { nonce: null }],
  ['label_sig1', { label: 'sig1' }],
  ['alg_present', { alg: 'ecdsa-p256-sha256', components: ['@authority', '@method', '@path'] }],
];
for (const [id, extra] of cases) {
  const v = byId[id];
  const input = {
    method: v.request.method, url: v.request.url, body: v.request.body, private_key: e.keys.signer.private_key,
    chain_id: 1, created: v.params.created, expires: v.params.expires, nonce: v.params.nonce ?? undefined, ...extra,
  };
  const out = run('erc8128-sign.mjs', input);
  check(`erc8128-sign.mjs reproduces ${id}`, out.headers, sigHeaders(v.request.headers));
}

const w = read('erc1271.json');
for (const v of w.vectors.filter((x) => x.kind === 'erc8128' && ['erc1271_deployed', 'erc6492_undeployed'].includes(x.id))) {
  const p = /created=(\d+);expires=(\d+);nonce="([^"]*)"/.exec(v.request.headers['signature-input']);
  const out = run('erc8128-sign.mjs', {
    method: v.request.method, url: v.request.url, private_key: w.keys.owner.private_key, chain_id: w.chain_id, address: w.wallet.address,
    created: Number(p[1]), expires: Number(p[2]), nonce: p[3],
    ...(v.erc6492_wrapped ? { erc6492: { factory: w.factory.address, factory_data: w.wallet.factory_calldata } } : {}),
  });
  check(`erc8128-sign.mjs reproduces ${v.id}`, out.headers, sigHeaders(v.request.headers));
}

{
  const fresh = run('erc8128-sign.mjs', { method: 'POST', url: 'http://127.0.0.1:8080/obp/v5.1.0/banks?x=1', headers: { 'content-type': 'application/json' }, body: '{"a":1}', private_key: e.keys.signer.private_key });
  const request = toRequest({ method: 'POST', url: 'http://127.0.0.1:8080/obp/v5.1.0/banks?x=1', headers: { 'content-type': 'application/json', ...fresh.headers }, body: '{"a":1}' });
  const r = await verifyRequest({ request, verifyMessage, nonceStore: { async consume() { return true; } } });
  check('a fresh erc8128-sign.mjs request verifies with the library now', r.ok, true);
}

const s = read('siwe.json');
for (const [name, v] of Object.entries(s.verification_positive).filter(([, x]) => x.made_by.startsWith('viem'))) {
  const f = v.fields;
  const input = {
    private_key: s.keys.siwe.private_key, domain: f.domain, uri: f.uri, chain_id: f.chainId, nonce: f.nonce, issued_at: f.issuedAt,
    expiration_time: f.expirationTime, not_before: f.notBefore, statement: f.statement, request_id: f.requestId, resources: f.resources,
    ...(v.v < 27 ? { transform: { v: v.v } } : {}),
  };
  const out = run('siwe-sign.mjs', input);
  check(`siwe-sign.mjs reproduces "${name}"`, [out.message, out.signature], [v.message, v.signature]);
}
{
  const v = w.vectors.find((x) => x.id === 'siwe_erc6492_undeployed');
  const out = run('siwe-sign.mjs', { private_key: w.keys.owner.private_key, message: v.message, erc6492: { factory: w.factory.address, factory_data: w.wallet.factory_calldata } });
  check('siwe-sign.mjs reproduces siwe_erc6492_undeployed', out.signature, v.signature);
}

if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('the live signers reproduce the vectors');
