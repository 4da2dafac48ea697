// Copies the compiled AirnodeRrpV0 and MockRrpRequesterV0 (ABI and creation bytecode) out of the
// pinned @api3/airnode-protocol package into tests/fixtures/contracts/. The package ships them
// as typechain factories built with solc 0.8.9 (hardhat); nothing is recompiled here.
//   cd tests/js && npm ci && node extract-airnode.mjs
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'fixtures', 'contracts');
const pkg = '@api3/airnode-protocol';
const pkgJson = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8'));

const contracts = [
  ['AirnodeRrpV0', 'dist/src/contracts/factories/rrp/AirnodeRrpV0__factory.js', 'contracts/rrp/AirnodeRrpV0.sol'],
  [
    'MockRrpRequesterV0',
    'dist/src/contracts/factories/rrp/requesters/mock/MockRrpRequesterV0__factory.js',
    'contracts/rrp/requesters/mock/MockRrpRequesterV0.sol',
  ],
];

for (const [name, file, source] of contracts) {
  const factory = require(`${pkg}/${file}`)[`${name}__factory`];
  if (!factory || !Array.isArray(factory.abi) || !/^0x[0-9a-f]+$/.test(factory.bytecode)) {
    throw new Error(`${pkg}/${file} has no ABI or bytecode for ${name}`);
  }
  const artifact = {
    contractName: name,
    origin: { package: pkg, version: pkgJson.version, file, source, extractedBy: 'tests/js/extract-airnode.mjs' },
    abi: factory.abi,
    bytecode: factory.bytecode,
  };
  writeFileSync(join(out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  console.log(`${name}: ${(factory.bytecode.length - 2) / 2} bytes from ${pkg}@${pkgJson.version}`);
}
