// A Node built-in module loaded synchronously where it is first needed
// (process.getBuiltinModule: Node >= 20.16, Bun). On Bun every built-in
// costs start-up time and memory when imported at the top of a module:
// node:module ~0.6 MiB, node:util more, and most calls need neither.

export function builtin<T>(name: string): T {
  return (process as unknown as { getBuiltinModule(id: string): T }).getBuiltinModule(name);
}
