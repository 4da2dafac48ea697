// Signs a fixed message with viem (an independent implementation of EIP-191 personal_sign)
// for two fixed test keys and writes tests/fixtures/signatures/eip1271.json. The tests deploy
// Eip1271Wallet owned by `owner.address` and check that it accepts the owner's signature of
// `hash` and refuses the others. ECDSA signing is deterministic (RFC 6979), so rerunning this
// script reproduces the file byte for byte.
//   cd tests/js && npm ci && node sign-eip1271.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashMessage, keccak256, recoverMessageAddress, toBytes, toHex, hexToBigInt, numberToHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const require = createRequire(import.meta.url);
const viemVersion = require('viem/package.json').version;
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'fixtures', 'signatures', 'eip1271.json');

// Test keys derived from fixed phrases; never use them for anything real.
const ownerKey = keccak256(toBytes('dauth-proxy test key: EIP-1271 wallet owner'));
const strangerKey = keccak256(toBytes('dauth-proxy test key: stranger'));
const owner = privateKeyToAccount(ownerKey);
const stranger = privateKeyToAccount(strangerKey);
const message = 'dauth-proxy EIP-1271 test vector: sign in to gateway.test';

const ownerSignature = await owner.signMessage({ message });
const strangerSignature = await stranger.signMessage({ message });
for (const [sig, who] of [[ownerSignature, owner], [strangerSignature, stranger]]) {
  if ((await recoverMessageAddress({ message, signature: sig })) !== who.address) throw new Error('viem did not recover its own signature');
}

// The same signature with s replaced by n - s and v flipped: recovers to the same address, but
// EIP-2 (and the wallet) refuse it.
const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const s = hexToBigInt(`0x${ownerSignature.slice(66, 130)}`);
const v = parseInt(ownerSignature.slice(130, 132), 16);
const highS = `${ownerSignature.slice(0, 66)}${numberToHex(n - s, { size: 32 }).slice(2)}${toHex(v === 27 ? 28 : 27).slice(2)}`;

const vector = {
  generator: `viem ${viemVersion} (tests/js/sign-eip1271.mjs)`,
  scheme: 'EIP-191 personal_sign; hash = keccak256("\\x19Ethereum Signed Message:\\n" || len(message) || message)',
  owner: { private_key: ownerKey, address: owner.address },
  stranger: { private_key: strangerKey, address: stranger.address },
  message,
  hash: hashMessage(message),
  owner_signature: ownerSignature,
  stranger_signature: strangerSignature,
  owner_signature_high_s: highS,
  magic_value: '0x1626ba7e',
};
writeFileSync(out, JSON.stringify(vector, null, 2) + '\n');
console.log(`owner ${owner.address}, hash ${vector.hash}`);
