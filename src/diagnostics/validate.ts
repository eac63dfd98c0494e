// `runt validate`: every problem of a bundle at once, without touching
// anything. In order: read and parse config.json; the runtime-spec schema
// (all issues); keys no schema defines (warnings with "did you mean");
// runt's semantic rules (all of them); the rootfs; features runt does not
// implement; the plan create would compile and the cgroup writes it would
// make (dry run); and whether this host provides what the config asks for.

import { RuntimeError } from '../errors/runtime-error.js';
import { knownMountOptions, parseMountOptions } from '../linux/mount-options.js';
import { Codes } from '../errors/codes.js';
import { SPEC_FEATURES } from '../features/spec-support.js';
import { readConfig, resolveRootfs } from '../spec/load.js';
import { checkConfigSchema } from '../spec/schema.js';
import type { Spec } from '../spec/types.js';
import { fromRuntimeError, type Diagnostic } from './diagnostic.js';
import { dryRun } from './dry-run.js';
import { gatherHostFacts } from './host-facts.js';
import { hostChecks, usesIdmappedMounts } from './host-checks.js';
import { hostReader, type HostReader } from './host-reader.js';
import { findUnknownKeys } from './schema-keys.js';
import { semanticDiagnostics } from './semantic.js';
import { suggest } from './suggest.js';
import { loadSyscallProber, unknownProber } from './syscall-probe.js';

export interface ValidateInput {
  bundle: string;
  id: string;
  root: string;
  systemdCgroup: boolean;
  reader?: HostReader;
}

export interface ValidationReport {
  bundle: string;
  configPath: string | undefined;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
  skipped: string[]; // checks that did not run, and why
}

// Exit status of `runt validate`: 1 with errors, 2 with warnings only
// (create would run, maybe not as meant), 0 when clean.
export function exitStatus(r: ValidationReport): number {
  return r.errors ? 1 : r.warnings ? 2 : 0;
}

// "/mounts/*/uidMappings" matched against a config: the concrete pointers
// with a non-empty value.
export function valuesAt(doc: unknown, pattern: string): string[] {
  let found: { at: string; v: unknown }[] = [{ at: '', v: doc }];
  for (const seg of pattern.split('/').slice(1)) {
    const next: { at: string; v: unknown }[] = [];
    for (const { at, v } of found) {
      if (v === null || typeof v !== 'object') continue;
      const keys = seg === '*' ? Object.keys(v) : [seg];
      for (const k of keys) {
        const child = (v as Record<string, unknown>)[k];
        if (child !== undefined) next.push({ at: `${at}/${k}`, v: child });
      }
    }
    found = next;
  }
  const nonEmpty = (v: unknown): boolean =>
    !(v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));
  return found.filter((x) => nonEmpty(x.v)).map((x) => x.at);
}

export function supportDiagnostics(spec: unknown): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of SPEC_FEATURES) {
    if (f.status === 'implemented' || f.status === 'not-applicable') continue;
    for (const pattern of f.fields) {
      for (const at of valuesAt(spec, pattern)) {
        out.push({
          severity: 'warning',
          check: 'support',
          code: Codes.UnsupportedFeature,
          message: `runt does not implement ${f.title} yet${f.issue ? ` (issue ${f.issue})` : ''}: this setting has no effect`,
          field: at,
          hint: 'docs/spec-conformance.md lists what runt implements',
        });
      }
    }
  }
  return out;
}

// Options of a bind mount that are no mount flag runt knows end up as
// filesystem data, which a bind mount ignores: most likely a typo.
export function bindOptionDiagnostics(spec: Spec): Diagnostic[] {
  const out: Diagnostic[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const opts = m.options ?? [];
    if (m.type !== 'bind' && !opts.includes('bind') && !opts.includes('rbind')) return;
    const unknown = parseMountOptions(opts).data.split(',').filter((o) => o !== '' && o !== 'defaults');
    if (!unknown.length) return;
    const s = unknown.map((o) => suggest(o, knownMountOptions())).filter((x) => x !== undefined);
    out.push({
      severity: 'warning',
      check: 'semantic',
      code: Codes.MountConfig,
      message: `bind mount on ${m.destination} ignores unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((o) => JSON.stringify(o)).join(', ')}${s.length ? `; did you mean ${s.map((o) => JSON.stringify(o)).join(', ')}?` : ''}`,
      field: `/mounts/${i}/options`,
      hint: '`runt features` lists the mount options runt knows',
    });
  });
  return out;
}

function finish(r: Omit<ValidationReport, 'errors' | 'warnings'>): ValidationReport {
  return {
    ...r,
    errors: r.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

export async function validateBundle(input: ValidateInput): Promise<ValidationReport> {
  const diagnostics: Diagnostic[] = [];
  const skipped: string[] = [];
  let loaded: ReturnType<typeof readConfig>;
  try {
    loaded = readConfig(input.bundle);
  } catch (err) {
    if (!(err instanceof RuntimeError)) throw err;
    return finish({ bundle: input.bundle, configPath: undefined, diagnostics: [fromRuntimeError(err, 'config')], skipped: ['every other check: there is no config to check'] });
  }
  const { bundle, configPath, raw } = loaded;
  const report = (): ValidationReport => finish({ bundle, configPath, diagnostics, skipped });

  for (const issue of await checkConfigSchema(raw)) {
    diagnostics.push({ severity: 'error', check: 'schema', code: Codes.ConfigSchema, message: issue.message, field: issue.pointer });
  }
  for (const u of findUnknownKeys(raw)) {
    const d: Diagnostic = {
      severity: 'warning',
      check: 'unknown-key',
      code: Codes.UnknownProperty,
      message: `unknown property ${JSON.stringify(u.key)}${u.suggestion ? `; did you mean ${JSON.stringify(u.suggestion)}?` : ''}`,
      field: u.pointer,
      hint: u.suggestion
        ? `rename it to ${JSON.stringify(u.suggestion)}: as it is, every runtime ignores it`
        : u.elsewhere
          ? `${JSON.stringify(u.key)} belongs at ${u.elsewhere}`
          : 'the runtime-spec does not define it: every runtime ignores it',
    };
    diagnostics.push(d);
  }
  if (diagnostics.some((d) => d.check === 'schema')) {
    skipped.push('semantic, dry-run and host checks: fix the schema errors first');
    return report();
  }

  const spec = raw as Spec;
  const semantic = semanticDiagnostics(spec, { consoleSocket: !!spec.process?.terminal, detached: true });
  diagnostics.push(...semantic);
  let rootfs: string | undefined;
  try {
    rootfs = resolveRootfs(bundle, spec);
  } catch (err) {
    if (!(err instanceof RuntimeError)) throw err;
    diagnostics.push(fromRuntimeError(err, 'semantic'));
  }
  diagnostics.push(...supportDiagnostics(spec));
  diagnostics.push(...bindOptionDiagnostics(spec));
  if (spec.process?.terminal) {
    diagnostics.push({
      severity: 'warning',
      check: 'semantic',
      code: Codes.ConsoleSocket,
      message: 'process.terminal is true: create and run need --console-socket',
      field: '/process/terminal',
      hint: 'pass --console-socket PATH (a unix socket that receives the pty master), or set process.terminal to false',
    });
  }

  if (semantic.length === 0 && rootfs !== undefined) {
    try {
      const dry = dryRun(spec, bundle, rootfs, {
        id: input.id,
        root: input.root,
        systemdCgroup: input.systemdCgroup,
        consoleSocket: spec.process?.terminal ? 'console.sock' : undefined,
        preserveFds: 0,
        noPivot: false,
        noNewKeyring: false,
      });
      for (const w of [...dry.plan.warnings, ...dry.cgroup.warnings]) {
        diagnostics.push({ severity: 'warning', check: 'semantic', code: Codes.ConfigSemantic, message: w });
      }
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      diagnostics.push(fromRuntimeError(err, 'semantic'));
    }
  } else {
    skipped.push('dry run of create: fix the errors above first');
  }

  const reader = input.reader ?? hostReader();
  const prober = usesIdmappedMounts(spec) ? await loadSyscallProber() : unknownProber;
  diagnostics.push(...hostChecks(spec, gatherHostFacts(reader, prober), reader, bundle, rootfs));
  return report();
}

// ---- output

export function renderText(r: ValidationReport): string {
  const file = r.configPath ?? `${r.bundle}/config.json`;
  const lines: string[] = [];
  const order = (d: Diagnostic): number => (d.severity === 'error' ? 0 : 1);
  for (const d of [...r.diagnostics].sort((a, b) => order(a) - order(b))) {
    const where = d.field ? `${d.field}: ` : '';
    lines.push(`${d.severity}: ${where}${d.message} [${d.code}]`);
    if (d.hint) lines.push(`  hint: ${d.hint}`);
  }
  for (const s of r.skipped) lines.push(`skipped: ${s}`);
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const verdict = r.errors ? 'invalid' : r.warnings ? 'valid, with warnings' : 'valid';
  lines.push(`${file}: ${verdict} (${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')})`);
  return lines.join('\n') + '\n';
}

export function renderJson(r: ValidationReport): string {
  return (
    JSON.stringify(
      {
        bundle: r.bundle,
        config: r.configPath ?? null,
        valid: r.errors === 0,
        errors: r.errors,
        warnings: r.warnings,
        diagnostics: r.diagnostics,
        skipped: r.skipped,
      },
      null,
      2,
    ) + '\n'
  );
}
