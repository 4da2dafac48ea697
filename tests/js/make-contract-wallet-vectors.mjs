// Writes tests/fixtures/wallets/erc1271.json (ERC-8128 requests and SIWE messages whose signer
// is the contract wallet Eip1271Wallet: EIP-1271 when it is deployed, ERC-6492-wrapped when it
// is not yet) and tests/fixtures/wallets/erc6492-validator.json (the creation code of ERC-6492's
// ValidateSigOffchain helper as viem ships it, for a verifier's single eth_call). Signed with
// @slicekit/erc8128 and viem from the fixed owner and stranger keys; offline and deterministic.
// check-wallet-evm.mjs deploys the contracts on a local anvil and checks every vector there
// with the library's verifier and viem's on-chain verifyMessage.
//   cd tests/js && npm ci && node make-contract-wallet-vectors.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest } from '@slicekit/erc8128';
import {
  encodeAbiParameters, encodeFunctionData, erc6492SignatureValidatorByteCode, getContractAddress, hashMessage, keccak256,
  serializeErc6492Signature, toBytes,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createSiweMessage } from 'viem/siwe';
import { flipHighS, headersObject, httpSigner, testKeys, toRequest, versions } from './wallet-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'fixtures', 'wallets');
const contracts = join(here, '..', 'fixtures', 'contracts');
const artifact = (name) => JSON.parse(readFileSync(join(contracts, `${name}.json`), 'utf8'));

export const CHAIN_ID = 31337; // tests/support/evm.rs
export const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'; // anvil's development account 0
const T0 = 1767225600;
const NOW = T0 + 5;
const ORIGIN = 'http://gateway.test';
const keys = testKeys();
const owner = privateKeyToAccount(keys.owner.private_key);
const stranger = privateKeyToAccount(keys.stranger.private_key);

const walletArtifact = artifact('Eip1271Wallet');
const factoryArtifact = artifact('Eip1271WalletFactory');
export const FACTORY = getContractAddress({ from: DEV0, nonce: 0n });
export const SALT = keccak256(toBytes('dauth-proxy test wallet salt'));
const initCode = `${walletArtifact.bytecode}${encodeAbiParameters([{ type: 'address' }], [owner.address]).slice(2)}`;
export const WALLET = getContractAddress({ opcode: 'CREATE2', from: FACTORY, salt: SALT, bytecode: initCode });
export const FACTORY_DATA = encodeFunctionData({ abi: factoryArtifact.abi, functionName: 'deploy', args: [owner.address, SALT] });
const wrap = (signature) => serializeErc6492Signature({ address: FACTORY, data: FACTORY_DATA, signature });

const SETUPS = {
  deployed: 'fresh node; account 0 deploys Eip1271WalletFactory as its first transaction (nonce 0 -> factory.address); then anyone calls factory.deploy(owner, salt) (wallet.address gets code)',
  undeployed: 'fresh node; account 0 deploys Eip1271WalletFactory as its first transaction; the wallet is NOT deployed (no code at wallet.address)',
  nothing: 'fresh node; nothing deployed (no factory, no wallet)',
};

const nonceFor = (id) => Buffer.from(toBytes(hashMessage(`dauth-proxy erc8128 nonce ${id}`)).slice(0, 16)).toString('base64url');

async function erc8128(id, description, { account, transform = (s) => s, setup, expected, url = `${ORIGIN}/obp/v5.1.0/users/current`, method = 'GET', headers = {}, body = null }) {
  let base = null;
  const s = httpSigner(account, CHAIN_ID, { address: WALLET, transform, onBase: (b) => { base = b; } });
  const signed = await signRequest(toRequest({ method, url, headers, body }), s, { created: T0, expires: T0 + 60, nonce: nonceFor(id) });
  const h = headersObject(signed);
  const sigB64 = h.signature.slice('eth=:'.length, -1);
  const signature = `0x${Buffer.from(sigB64, 'base64').toString('hex')}`;
  const u = new URL(url);
  return {
    id,
    kind: 'erc8128',
    description,
    setup,
    now: NOW,
    request: { method, url, authority: u.host, path: u.pathname, query: u.search, headers: h, body },
    signature_base: base,
    eip191_hash: hashMessage({ raw: toBytes(base) }),
    signature,
    signature_length: (signature.length - 2) / 2,
    erc6492_wrapped: signature.endsWith('6492649264926492649264926492649264926492649264926492649264926492'),
    signed_by: account.address,
    keyid_address: WALLET,
    expected,
  };
}

async function siwe(id, description, { account, transform = (s) => s, setup, expected }) {
  const message = createSiweMessage({
    address: WALLET, chainId: CHAIN_ID, domain: 'gateway.test', uri: 'https://gateway.test/auth/siwe/login',
    nonce: 'Wq3eR5tY7uI9oP1a', version: '1', issuedAt: new Date(T0 * 1000),
  });
  const signature = transform(await account.signMessage({ message }));
  return { id, kind: 'siwe', description, setup, now: NOW, message, eip191_hash: hashMessage(message), signature, signature_length: (signature.length - 2) / 2, signed_by: account.address, expected };
}

const ok = { ok: true, signer: WALLET, user: `contract user (chain ${CHAIN_ID}, ${WALLET})` };
const no = (reason) => ({ ok: false, reason });
const vectors = [
  await erc8128('erc1271_deployed', 'Signed by the owner key, keyid names the wallet. Recovery gives the owner, not the keyid address, so the gateway asks the wallet: isValidSignature(eip191_hash, signature) answers 0x1626ba7e.', { account: owner, setup: 'deployed', expected: ok }),
  await erc8128('erc1271_post_json', 'A POST with a JSON body (Content-Digest covered), signed by the owner for the deployed wallet.', { account: owner, setup: 'deployed', expected: ok, method: 'POST', url: `${ORIGIN}/obp/v5.1.0/banks/gh.29.uk/accounts`, headers: { 'content-type': 'application/json' }, body: '{"label":"wallet account"}' }),
  await erc8128('erc1271_stranger', 'Signed by the stranger for the deployed wallet: isValidSignature answers 0xffffffff.', { account: stranger, setup: 'deployed', expected: no('bad_signature') }),
  await erc8128('erc1271_high_s', 'The owner\'s signature made high-s: the wallet refuses it (EIP-2), and so must the gateway.', { account: owner, transform: flipHighS, setup: 'deployed', expected: no('high_s') }),
  await erc8128('erc1271_not_deployed', 'The owner\'s plain signature while the wallet has no code and no ERC-6492 wrapper: nothing can vouch for it.', { account: owner, setup: 'undeployed', expected: no('bad_signature') }),
  await erc8128('erc6492_undeployed', 'The owner\'s signature wrapped per ERC-6492 (factory, deploy calldata, signature, magic suffix) for the not yet deployed wallet: the universal validator deploys it inside eth_call and asks isValidSignature.', { account: owner, transform: wrap, setup: 'undeployed', expected: ok }),
  await erc8128('erc6492_deployed', 'The same kind of wrapped signature after the wallet was deployed: still valid (ERC-6492 verifies against the live contract).', { account: owner, transform: wrap, setup: 'deployed', expected: ok }),
  await erc8128('erc6492_stranger', 'A wrapped signature by the stranger for the undeployed wallet: the deployed-in-simulation wallet refuses it.', { account: stranger, transform: wrap, setup: 'undeployed', expected: no('bad_signature') }),
  await erc8128('erc6492_no_factory', 'The owner\'s wrapped signature on a node without the factory: the factory call deploys nothing, so the validator fails (ERC6492DeploySilentlyFailed).', { account: owner, transform: wrap, setup: 'nothing', expected: no('bad_signature') }),
  await siwe('siwe_erc1271_deployed', 'SIWE message whose address is the deployed wallet, signed by the owner key (EIP-4361: contract accounts via EIP-1271 on chain-id).', { account: owner, setup: 'deployed', expected: ok }),
  await siwe('siwe_erc6492_undeployed', 'SIWE message for the undeployed wallet with an ERC-6492-wrapped owner signature.', { account: owner, transform: wrap, setup: 'undeployed', expected: ok }),
  await siwe('siwe_erc1271_stranger', 'SIWE message for the deployed wallet signed by the stranger.', { account: stranger, setup: 'deployed', expected: no('bad_signature') }),
];

const out = {
  generator: `@slicekit/erc8128 ${versions.erc8128} and viem ${versions.viem} (tests/js/make-contract-wallet-vectors.mjs); checked on anvil by tests/js/check-wallet-evm.mjs`,
  about: 'Contract-wallet signers. Deploy per `setup` on a fresh node of tests/support/evm.rs (chain 31337), configure wallets.chains with 31337 and wallets.rpc_urls with the node, then verify at `now`. For erc8128 vectors send request.headers with Host: request.authority. eip191_hash is what isValidSignature(bytes32,bytes) is asked about (the same digest ecrecover would use). A 6492-wrapped signature is abi.encode(address factory, bytes factoryCalldata, bytes signature) || magic (32 bytes of 0x6492...). See FACTS.md.',
  chain_id: CHAIN_ID,
  keys: { owner: keys.owner, stranger: keys.stranger, note: 'test-only keys: private_key = keccak256(utf8(phrase))' },
  factory: { address: FACTORY, deployer: DEV0, deployer_nonce: 0, artifact: 'tests/fixtures/contracts/Eip1271WalletFactory.json', note: 'CREATE address of anvil account 0\'s first transaction; on a node where that is taken, re-sign with erc8128-sign.mjs for the real address' },
  wallet: { address: WALLET, owner: owner.address, salt: SALT, artifact: 'tests/fixtures/contracts/Eip1271Wallet.json', factory_calldata: FACTORY_DATA, note: 'CREATE2(factory, salt, keccak256(Eip1271Wallet.bytecode || abi.encode(owner)))' },
  erc6492_magic: '0x6492649264926492649264926492649264926492649264926492649264926492',
  eip1271_magic: '0x1626ba7e',
  setups: SETUPS,
  vectors,
};
const validator = {
  origin: `viem ${versions.viem}: erc6492SignatureValidatorByteCode (viem/_esm/constants/contracts.js), copied by tests/js/make-contract-wallet-vectors.mjs`,
  about: 'Creation code of ERC-6492\'s ValidateSigOffchain (the deployless universal signature validator). eth_call with no "to" and data = bytecode || abi.encode(address signer, bytes32 hash, bytes signature): the constructor deploys UniversalSigValidator, runs isValidSigWithSideEffects (ERC-6492 wrapper -> factory call then isValidSignature; code at signer -> EIP-1271; else ecrecover with v in {27, 28}) and returns one byte, 0x01 valid or 0x00 invalid; a revert (e.g. ERC6492DeploySilentlyFailed) means invalid. check-wallet-evm.mjs runs it on anvil.',
  constructor: 'constructor(address _signer, bytes32 _hash, bytes _signature)',
  bytecode: erc6492SignatureValidatorByteCode,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'erc1271.json'), JSON.stringify(out, null, 2) + '\n');
writeFileSync(join(outDir, 'erc6492-validator.json'), JSON.stringify(validator, null, 2) + '\n');
console.log(`erc1271.json: ${vectors.length} vectors; factory ${FACTORY}, wallet ${WALLET}; erc6492-validator.json: ${(validator.bytecode.length - 2) / 2} bytes`);
for (const v of vectors) if (v.kind === 'erc8128' && v.request.authority !== 'gateway.test') throw new Error('authority');

