// Writes the generated documents (docs/errors.md, docs/spec-conformance.md)
// into the repository given as argument: `make docs`.

import fs from 'node:fs';
import path from 'node:path';
import { DOCS } from './docs.js';

const repo = path.resolve(process.argv[2] ?? '.');
for (const [rel, build] of Object.entries(DOCS)) {
  const file = path.join(repo, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, build());
  process.stdout.write(`wrote ${rel}\n`);
}
