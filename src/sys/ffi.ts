// The one door to koffi (DESIGN.md: "nothing else imports koffi"). It is
// loaded on first use only. `import('koffi')` costs 9-13 ms on Bun, most of
// it in the JS wrapper that locates the prebuilt native module; loading that
// module directly costs under 3 ms, so we try it first and fall back to the
// package entry point (another platform, another layout).

import { requireFromInstall } from './install-root.js';
import type * as KoffiModule from 'koffi';

export type Koffi = typeof KoffiModule;

let loaded: Koffi | undefined;

function loadPrebuilt(): Koffi | undefined {
  try {
    const require = requireFromInstall();
    const os = process.platform;
    const native = require(`@koromix/koffi-${os}-${process.arch}/${os}_${process.arch}/koffi.node`) as Koffi & { version?: unknown };
    const ok = typeof native.version === 'string' && typeof native.load === 'function' && typeof native.struct === 'function' && typeof native.decode === 'function';
    return ok ? native : undefined;
  } catch {
    return undefined;
  }
}

// Synchronously, for callers that cannot wait (features): the prebuilt
// module or nothing.
export function loadKoffiSync(): Koffi | undefined {
  if (!loaded) loaded = loadPrebuilt();
  return loaded;
}

// The prebuilt module, else the package's entry point; synchronous (bpf.ts
// needs it from synchronous code).
export function requireKoffi(): Koffi {
  if (!loaded) {
    loaded = loadPrebuilt();
    if (!loaded) {
      const mod = requireFromInstall()('koffi') as { default?: Koffi } & Koffi;
      loaded = mod.default ?? mod;
    }
  }
  return loaded;
}

export async function loadKoffi(): Promise<Koffi> {
  return requireKoffi();
}
