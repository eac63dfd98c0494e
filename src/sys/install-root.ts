// Where this copy of runt lives: the checkout (or install) root holding
// bin/runt-init and node_modules/. The shipped CLI is a Bun single-file
// executable (bin/runt, Makefile) whose modules sit in Bun's virtual
// filesystem (/$bunfs/...), so import.meta.url says nothing about the disk
// there: the executable's own path does. Run from the tsc output (Node,
// tests), the module's location does.

import { fs } from './fs.js';
import { builtin } from './builtin.js';
import { isCompiledExecutable } from './executable.js';
import { dirname } from './paths.js';

let root: string | undefined;

export function installRoot(): string {
  if (root !== undefined) return root;
  let from = isCompiledExecutable() ? dirname(fs.realpathSync(process.execPath)) : dirname(new URL(import.meta.url).pathname);
  // from bin/ (the executable) or dist/src/sys/ (tsc output): the first
  // ancestor with a package.json is the root
  for (let d = from; ; d = dirname(d)) {
    if (fs.existsSync(`${d}/package.json`)) {
      from = d;
      break;
    }
    if (d === '/') break;
  }
  root = from;
  return root;
}

// require() resolving packages (koffi) from the install's node_modules.
export function requireFromInstall(): NodeJS.Require {
  return builtin<typeof import('node:module')>('node:module').createRequire(`${installRoot()}/package.json`);
}
