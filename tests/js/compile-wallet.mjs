// Compiles tests/fixtures/contracts/Eip1271Wallet.sol and Eip1271WalletFactory.sol (which
// imports the wallet) with the pinned solc-js (offline: the compiler is the package's bundled
// soljson.js) into Eip1271Wallet.json and Eip1271WalletFactory.json (ABI and bytecode). The
// wallet's artifact does not depend on the factory being in the same compilation: its bytecode
// and metadata hash cover only its own source.
//   cd tests/js && npm ci && node compile-wallet.mjs
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'fixtures', 'contracts');
const names = ['Eip1271Wallet', 'Eip1271WalletFactory'];

// paris: no PUSH0 or later opcodes, so the bytecode runs on any node's default hardfork.
const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'paris',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};
const sources = Object.fromEntries(names.map((n) => [`${n}.sol`, { content: readFileSync(join(dir, `${n}.sol`), 'utf8') }]));
const input = { language: 'Solidity', sources, settings };
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

for (const name of names) {
  const file = `${name}.sol`;
  const compiled = output.contracts[file][name];
  const artifact = {
    contractName: name,
    origin: { source: `tests/fixtures/contracts/${file}`, compiler: `solc-js ${solc.version()}`, settings, compiledBy: 'tests/js/compile-wallet.mjs' },
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  console.log(`${name}: ${compiled.evm.bytecode.object.length / 2} bytes, solc ${solc.version()}`);
}
