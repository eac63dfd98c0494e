// Hooks the runtime itself runs, in the runtime's namespaces: prestart,
// createRuntime, poststart and poststop (createContainer and startContainer
// run inside the container, in the native stage). Each gets the state JSON
// on stdin; a timeout kills it.

import type { ChildProcess } from 'node:child_process';
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Hook, OciState } from '../spec/types.js';

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

function tail(buf: Buffer[]): string {
  const text = Buffer.concat(buf).toString('utf8').trim();
  return text.length > 400 ? '…' + text.slice(-400) : text;
}

// node:child_process is loaded only by a container that has hooks
type Spawn = typeof import('node:child_process').spawn;

export async function runHook(phase: HookPhase, index: number, hook: Hook, state: OciState): Promise<void> {
  const { spawn } = await import('node:child_process');
  return runHookWith(spawn, phase, index, hook, state);
}

function runHookWith(spawn: Spawn, phase: HookPhase, index: number, hook: Hook, state: OciState): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args && hook.args.length ? hook.args : [hook.path];
    const field = `/hooks/${phase}/${index}`;
    let child: ChildProcess;
    try {
      child = spawn(hook.path, args.slice(1), {
        argv0: args[0],
        env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
        stdio: ['pipe', 'pipe', 'pipe'],
        // its own process group, so that a timeout kills what it started too
        detached: true,
      });
    } catch (err) {
      // Bun throws at once what Node reports as an 'error' event (E2BIG, EACCES…)
      const e = err as NodeJS.ErrnoException;
      reject(new RuntimeError(Codes.HookFailed, `${phase} hook ${hook.path} could not be run: ${e.code ?? e.message}`, { field, path: hook.path, errno: e.code, phase }));
      return;
    }
    const out: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => out.push(d));
    let timedOut = false;
    // setTimeout takes at most 2^31-1 ms (24.8 days); more would fire at once
    const timer = hook.timeout
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, Math.min(hook.timeout * 1000, 2 ** 31 - 1))
      : undefined;
    // a hook that exits without reading stdin gives EPIPE here: not an error
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new RuntimeError(Codes.HookFailed, `${phase} hook ${hook.path} could not be run: ${err.code ?? err.message}`, { field, path: hook.path, errno: err.code, phase }));
    });
    // The hook's status comes with 'exit'; its output is complete at 'close',
    // which never comes while something it left running (`daemon &`) holds
    // its stdout: wait for that a moment only, or we would hang with it.
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      child.stdout!.destroy();
      child.stderr!.destroy();
      if (timedOut) {
        reject(new RuntimeError(Codes.HookTimeout, `${phase} hook ${hook.path} timed out after ${hook.timeout} s`, { field, path: hook.path, phase }));
      } else if (code !== 0) {
        const output = tail(out);
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new RuntimeError(Codes.HookFailed, `${phase} hook ${hook.path} ${how}${output ? `: ${output}` : ''}`, { field, path: hook.path, phase }));
      } else {
        resolve();
      }
    };
    child.on('close', (code, signal) => finish(code, signal));
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 200));
  });
}

export async function runHooks(phase: HookPhase, hooks: Hook[] | undefined, state: OciState): Promise<void> {
  const list = hooks ?? [];
  if (!list.length) return;
  const { spawn } = await import('node:child_process');
  for (let i = 0; i < list.length; i++) await runHookWith(spawn, phase, i, list[i]!, state);
}
