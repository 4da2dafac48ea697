// Checks tests/fixtures/wallets/erc1271.json and erc6492-validator.json on a real local EVM:
// starts anvil (the pinned @foundry-rs/anvil binary, on 127.0.0.1 with an OS-chosen port, chain
// 31337, the standard development mnemonic), walks the setups in order (nothing deployed ->
// factory deployed -> wallet deployed) and for each vector asserts the expected outcome three
// ways: @slicekit/erc8128's verifyRequest (or viem's verifySiweMessage) with viem's on-chain
// verifyMessage, a raw eth_call of the checked-in ERC-6492 validator bytecode, and, for a
// deployed wallet and a plain signature, a raw eth_call of isValidSignature. Writes nothing;
// exits non-zero on the first disagreement. The node is stopped at the end.
//   cd tests/js && npm ci && node check-wallet-evm.mjs
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyRequest } from '@slicekit/erc8128';
import { createPublicClient, createWalletClient, decodeFunctionResult, encodeAbiParameters, encodeFunctionData, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { toRequest } from './wallet-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');
const read = (p) => JSON.parse(readFileSync(join(fixtures, p), 'utf8'));
const data = read('wallets/erc1271.json');
const validator = read('wallets/erc6492-validator.json');
const walletArtifact = read('contracts/Eip1271Wallet.json');
const factoryArtifact = read('contracts/Eip1271WalletFactory.json');
const DEV0_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const MNEMONIC = 'test test test test test test test test test test test junk';

function startAnvil() {
  const pkg = `anvil-linux-${process.arch === 'arm64' ? 'arm64' : 'amd64'}`;
  const bin = join(here, 'node_modules', '@foundry-rs', pkg, 'bin', 'anvil');
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(data.chain_id), '--mnemonic', MNEMONIC], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('anvil did not start in 30 s')); }, 30000);
    let seen = '';
    const onData = (chunk) => {
      seen += chunk.toString();
      const m = /Listening on (127\.0\.0\.1:\d+)/.exec(seen);
      if (m) { clearTimeout(timer); resolve({ child, url: `http://${m[1]}` }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`anvil exited (${code}): ${seen}`)); });
  });
}

const { child, url } = await startAnvil();
let failures = 0;
try {
  const chain = { ...foundry, id: data.chain_id };
  const client = createPublicClient({ chain, transport: http(url) });
  const dev0 = createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(DEV0_KEY) });
  const check = (what, got, want) => {
    const mark = got === want ? 'ok  ' : 'FAIL';
    if (got !== want) failures += 1;
    console.log(`${mark} ${what}: ${got}`);
  };

  async function validatorSays(address, hash, signature) {
    const args = encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }, { type: 'bytes' }], [address, hash, signature]);
    try {
      const r = await client.request({ method: 'eth_call', params: [{ data: `${validator.bytecode}${args.slice(2)}` }, 'latest'] });
      return r === '0x01';
    } catch {
      return false;
    }
  }
  async function walletSays(hash, signature) {
    const r = await client.call({ to: data.wallet.address, data: encodeFunctionData({ abi: walletArtifact.abi, functionName: 'isValidSignature', args: [hash, signature] }) });
    return decodeFunctionResult({ abi: walletArtifact.abi, functionName: 'isValidSignature', data: r.data }) === data.eip1271_magic;
  }

  async function checkSetup(setup) {
    for (const v of data.vectors.filter((x) => x.setup === setup)) {
      const want = v.expected.ok;
      if (v.kind === 'erc8128') {
        const seen = new Set();
        const r = await verifyRequest({
          request: toRequest(v.request),
          verifyMessage: (args) => client.verifyMessage(args),
          nonceStore: { async consume(k) { if (seen.has(k)) return false; seen.add(k); return true; } },
          policy: { now: () => v.now, clockSkewSec: 60, maxValiditySec: 300 },
        });
        check(`${v.id} [${setup}] @slicekit/erc8128 verifyRequest + viem on-chain verifyMessage`, r.ok, want);
        if (r.ok) check(`${v.id} library's signer is the wallet`, r.address.toLowerCase(), data.wallet.address.toLowerCase());
      } else {
        const ok = await client.verifySiweMessage({ message: v.message, signature: v.signature, domain: 'gateway.test', time: new Date(v.now * 1000) });
        check(`${v.id} [${setup}] viem verifySiweMessage (on-chain)`, ok, want);
      }
      check(`${v.id} ERC-6492 validator eth_call`, await validatorSays(data.wallet.address, v.eip191_hash, v.signature), want);
      if (setup === 'deployed' && v.signature_length === 65) check(`${v.id} wallet.isValidSignature`, await walletSays(v.eip191_hash, v.signature), want);
    }
  }

  await checkSetup('nothing');
  const factoryHash = await dev0.deployContract({ abi: factoryArtifact.abi, bytecode: factoryArtifact.bytecode });
  const factoryReceipt = await client.waitForTransactionReceipt({ hash: factoryHash });
  check('factory address (account 0, nonce 0)', factoryReceipt.contractAddress.toLowerCase(), data.factory.address.toLowerCase());
  const predicted = await client.readContract({ address: data.factory.address, abi: factoryArtifact.abi, functionName: 'walletAddress', args: [data.wallet.owner, data.wallet.salt] });
  check('factory.walletAddress(owner, salt)', predicted, data.wallet.address);
  await checkSetup('undeployed');
  const deployHash = await dev0.sendTransaction({ to: data.factory.address, data: data.wallet.factory_calldata });
  await client.waitForTransactionReceipt({ hash: deployHash });
  check('wallet has code after factory.deploy', (await client.getCode({ address: data.wallet.address }))?.length > 2, true);
  const ownerOnChain = await client.readContract({ address: data.wallet.address, abi: walletArtifact.abi, functionName: 'owner' });
  check('wallet.owner()', ownerOnChain, data.wallet.owner);
  await checkSetup('deployed');
} finally {
  child.kill('SIGTERM');
}
if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all contract-wallet vectors agree on anvil');
