// Facts about the running program that need no built-in module (loading
// node:fs costs a lifecycle call ~1 ms on Bun, see src/sys/fs.ts).

// The shipped CLI is a Bun single-file executable (bin/runt, Makefile) whose
// modules sit in Bun's virtual filesystem (/$bunfs/...). Bun.main names the
// entry module (more robust than import.meta.url, which a CommonJS build
// bakes in as the path the module had at build time).
export function isCompiledExecutable(): boolean {
  const main = (globalThis as { Bun?: { main?: unknown } }).Bun?.main;
  return typeof main === 'string' && main.startsWith('/$bunfs/');
}
