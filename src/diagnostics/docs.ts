// The generated documents: docs/errors.md from the error code table
// (src/errors/codes.ts) and docs/spec-conformance.md from the support table
// (src/features/spec-support.ts). Pure text builders; gen-docs.ts writes
// them and a unit test fails when the committed files are stale.

import { CODE_DESCRIPTIONS, CODE_FAMILIES, Codes } from '../errors/codes.js';
import { SPEC_FEATURES, type SpecFeature, type SupportGroup } from '../features/spec-support.js';

const GENERATED = (source: string): string =>
  `<!-- GENERATED from ${source} by \`make docs\` (src/diagnostics/gen-docs.ts): do not edit by hand. -->\n`;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function errorsDoc(): string {
  const entries = Object.entries(Codes) as [keyof typeof Codes, string][];
  entries.sort((a, b) => a[1].localeCompare(b[1]));
  let out = GENERATED('src/errors/codes.ts');
  out += '# runt error codes\n\n';
  out += 'Every error runt reports carries a stable code `RUNTnnnn`. A code is never\n';
  out += 'reassigned or reused, so you can search for it. On stderr an error is one line:\n\n';
  out += '```\nrunt: <what failed>: <syscall>: <errno> (<text>) [RUNTnnnn] (hint: <what to do>)\n```\n\n';
  out += 'With `--log FILE --log-format json` the last line of the log is the same error\n';
  out += 'as a JSON object (containerd shows that line):\n\n';
  out += '```json\n{"level":"error","msg":"…","time":"…","code":"RUNT4003","errno":"ENOENT","syscall":"execve","path":"/bin/foo","field":"/process/args/0","phase":"exec","hint":"…"}\n```\n\n';
  out += '| field | meaning |\n|---|---|\n';
  out += '| `code` | the code below |\n';
  out += '| `field` | JSON pointer of the config.json member at fault |\n';
  out += '| `path` | the file or directory involved |\n';
  out += '| `syscall`, `errno` | the failing system call and its errno name |\n';
  out += '| `phase` | where it happened: a phase of runt (`validate`, `cgroup`, `spawn`, …) or the native stage\'s step (`mount`, `pivot`, `exec`, …) |\n';
  out += '| `hint` | what to do about it, when known |\n\n';
  out += '`runt validate` reports config problems with the same codes, all at once.\n\n';
  out += '## Families\n\n| codes | family |\n|---|---|\n';
  for (const [d, name] of Object.entries(CODE_FAMILIES)) out += `| RUNT${d}xxx | ${name} |\n`;
  for (const [d, name] of Object.entries(CODE_FAMILIES)) {
    const inFamily = entries.filter(([, code]) => code.startsWith(`RUNT${d}`));
    if (!inFamily.length) continue;
    out += `\n## RUNT${d}xxx: ${name}\n\n| code | name | meaning |\n|---|---|---|\n`;
    for (const [key, code] of inFamily) out += `| ${code} | ${key} | ${cell(CODE_DESCRIPTIONS[key])} |\n`;
  }
  return out;
}

const GROUP_TITLES: Record<SupportGroup, string> = {
  operations: 'Operations (runtime.md)',
  config: 'Configuration (config.md)',
  process: 'Process (config.md)',
  hooks: 'Hooks (config.md)',
  namespaces: 'Namespaces (config-linux.md)',
  linux: 'Linux settings (config-linux.md)',
  cgroups: 'Control groups (config-linux.md)',
  security: 'Security (config-linux.md, config.md)',
};

export function statusText(f: SpecFeature): string {
  const issue = f.issue ? ` (issue ${f.issue})` : '';
  switch (f.status) {
    case 'implemented':
      return 'implemented';
    case 'partial':
      return `partial${issue}`;
    case 'not-implemented':
      return `not yet${issue}`;
    case 'not-applicable':
      return 'not applicable';
  }
}

export function conformanceDoc(): string {
  let out = GENERATED('src/features/spec-support.ts');
  out += '# runt and the OCI runtime-spec (Linux)\n\n';
  out += 'What runt implements of the [runtime-spec](https://github.com/opencontainers/runtime-spec) 1.3,\n';
  out += 'feature by feature. The same table feeds `runt features` and `runt validate`\n';
  out += '(which warns when a config uses a feature that is not implemented yet), so the\n';
  out += 'three cannot disagree. `runt features --host` shows what this host supports.\n\n';
  const count = (s: SpecFeature['status']): number => SPEC_FEATURES.filter((f) => f.status === s).length;
  out += `Summary: ${count('implemented')} implemented, ${count('partial')} partial, ${count('not-implemented')} not yet, ${count('not-applicable')} not applicable.\n`;
  for (const group of Object.keys(GROUP_TITLES) as SupportGroup[]) {
    const rows = SPEC_FEATURES.filter((f) => f.group === group);
    if (!rows.length) continue;
    out += `\n## ${GROUP_TITLES[group]}\n\n| feature | config.json | spec | status | notes |\n|---|---|---|---|---|\n`;
    for (const f of rows) {
      const fields = f.fields.map((p) => `\`${p}\``).join(', ');
      out += `| ${cell(f.title)} | ${fields} | ${f.spec} | ${statusText(f)} | ${cell(f.note ?? '')} |\n`;
    }
  }
  return out;
}

export const DOCS: Record<string, () => string> = {
  'docs/errors.md': errorsDoc,
  'docs/spec-conformance.md': conformanceDoc,
};
