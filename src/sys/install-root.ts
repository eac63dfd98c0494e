// Where this copy of runt lives: the checkout (or install) root holding
// bin/runt-init and node_modules/. The shipped CLI is a Bun single-file
// executable (bin/runt, Makefile) whose modules sit in Bun's virtual
// filesystem (/$bunfs/...), so import.meta.url says nothing about the disk
// there: the executable's own path does. Run from the tsc output (Node,
// tests), the module's location does.

import { existsSync, realpathSync } from 'node:fs';
import { builtin } from './builtin.js';

let root: string | undefined;

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

// Bun.main names the entry module, which in an executable is in /$bunfs/
// (more robust than import.meta.url, which a CommonJS build bakes in as the
// path the module had at build time).
function isCompiledExecutable(): boolean {
  const main = (globalThis as { Bun?: { main?: unknown } }).Bun?.main;
  return typeof main === 'string' && main.startsWith('/$bunfs/');
}

export function installRoot(): string {
  if (root !== undefined) return root;
  let from = isCompiledExecutable() ? dirname(realpathSync(process.execPath)) : dirname(new URL(import.meta.url).pathname);
  // from bin/ (the executable) or dist/src/sys/ (tsc output): the first
  // ancestor with a package.json is the root
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(`${d}/package.json`)) {
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
