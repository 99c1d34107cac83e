// `npm run package`: builds the package (when its sources changed) and packs it into
// dist/packages/ with `npm pack`. The tarball's absolute path is the last line on stdout, for
// scripts and tests to pick up. Plain Node with built-ins only.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage, packageDir } from './build-package.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const destination = join(root, 'dist', 'packages');

await buildPackage({ ifStale: true });
mkdirSync(destination, { recursive: true });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The package carries the repository's README, LICENSE, CHANGELOG and docs/ (which the README
// links to, so its links resolve in the tarball too); they are copied in for the packing only.
const copies = ['README.md', 'LICENSE', 'CHANGELOG.md', 'docs'].map((name) =>
  join(packageDir, name),
);
for (const copy of copies) cpSync(join(root, basename(copy)), copy, { recursive: true });
let output;
try {
  output = execFileSync(npm, ['pack', '--json', '--pack-destination', destination], {
    cwd: packageDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
} finally {
  for (const copy of copies) rmSync(copy, { force: true, recursive: true });
}
const [packed] = JSON.parse(output);
console.error(
  `[package] ${packed.name}@${packed.version}: ${packed.entryCount} files, ${packed.size} bytes`,
);
console.log(join(destination, packed.filename));
