// Start the native stage (runt-init) with its plan pipe and sync socket.
//
// Two ways, one interface: on Bun, Bun.spawn (about 1 ms, and no
// node:child_process, whose first spawn cost create ~8 ms there) with the sync
// socket read through Bun's own event loop; elsewhere (Node, or when a
// console socket has to be passed) node:child_process with streams.
// The child sees the same fds either way: 0-2 inherited, then the
// preserved fds, the plan fd, the sync fd and the console socket.

import { fs, waitRead } from '../sys/fs.js';
import type net from 'node:net';
import { Codes } from '../errors/codes.js';
import { RuntimeError, fromSystemError } from '../errors/runtime-error.js';
import { parseSignal } from '../linux/signals.js';
import { InitChannel } from './init-channel.js';

export interface StageProcess {
  readonly pid: number;
  readonly channel: InitChannel;
  // the stage's exit status, shell style (128+N when killed by signal N)
  readonly exited: Promise<number>;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
  // Write the plan to the plan fd and close it; later calls do nothing
  // (spawnStage has sent it already when given the plan). The stage waits
  // for it.
  sendPlan(plan: Buffer): void;
}

export interface StageSpawnOptions {
  init: string;
  preserveFds: number; // fds 3..3+n-1 of ours, passed on at the same numbers
  // written to the plan fd, which is then closed; or later, by sendPlan
  plan?: Buffer;
  // make the network namespace while waiting for the plan (Plan.netnsAhead)
  netnsAhead?: boolean;
  consoleSocket?: net.Socket; // passed after the sync fd
}

const SPAWN_HINT = 'run `make` to build bin/runt-init, or point RUNT_INIT at a runnable copy';

// The fd numbers the stage sees: the plan after the preserved fds, then the
// sync socket, then the console socket (whose number goes into the plan).
function planFdOf(preserveFds: number): number {
  return 3 + preserveFds;
}
export function stageConsoleFd(preserveFds: number): number {
  return planFdOf(preserveFds) + 2;
}

// stdio of the stage up to its sync socket: ours, the preserved fds, two pipes
function stageStdio(preserveFds: number): (string | number)[] {
  const stdio: (string | number)[] = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < 3 + preserveFds; fd++) stdio.push(fd);
  stdio.push('pipe', 'pipe');
  return stdio;
}

export async function spawnStage(o: StageSpawnOptions): Promise<StageProcess> {
  const planFd = planFdOf(o.preserveFds);
  const args = [String(planFd), String(planFd + 1)];
  if (o.netnsAhead) args.push('netns');
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  const raw = bun && !o.consoleSocket ? spawnWithBun(bun, o, args) : await spawnWithNode(o, args);
  // the plan goes out once; a kill before it closes our end of the pipe
  let planSent = false;
  const sendPlan = (plan: Buffer): void => {
    if (planSent) return;
    planSent = true;
    raw.sendPlan(plan);
  };
  const stage: StageProcess = {
    ...raw,
    sendPlan,
    kill: (signal) => {
      sendPlan(Buffer.alloc(0));
      raw.kill(signal);
    },
  };
  if (o.plan) stage.sendPlan(o.plan);
  return stage;
}

// ---- Bun -------------------------------------------------------------------

interface BunSubprocess {
  pid: number;
  stdio: (number | undefined | null)[];
  exited: Promise<number>;
  exitCode: number | null;
  signalCode: string | null;
  kill(signal?: number | string): void;
}
interface BunLike {
  spawn(cmd: string[], opts: { stdio: (string | number)[]; env: Record<string, string> }): BunSubprocess;
  file(fd: number): { stream(): ReadableStream<Uint8Array> };
}

function spawnWithBun(bun: BunLike, o: StageSpawnOptions, args: string[]): StageProcess {
  let proc: BunSubprocess;
  try {
    proc = bun.spawn([o.init, ...args], { stdio: stageStdio(o.preserveFds), env: {} });
  } catch (err) {
    throw fromSystemError(Codes.InitSpawn, `start the native stage ${o.init}`, err, { path: o.init, syscall: 'spawn', hint: SPAWN_HINT });
  }
  const planFd = proc.stdio[planFdOf(o.preserveFds)];
  const syncFd = proc.stdio[planFdOf(o.preserveFds) + 1];
  if (typeof planFd !== 'number' || typeof syncFd !== 'number') {
    proc.kill('SIGKILL');
    throw new RuntimeError(Codes.InitSpawn, `start the native stage ${o.init}: no plan or sync socket`, { path: o.init, hint: SPAWN_HINT });
  }
  // Bun's socket ends are non-blocking; the stage reads the whole plan
  // first, so a full socket buffer only means waiting for it briefly. A
  // stage that died at once (EPIPE) is reported by the handshake, which
  // sees the socket close without a frame, as with Node's streams.
  const sendPlan = (plan: Buffer): void => {
    try {
      ignoreBrokenPipe(() => writeAllNonBlocking(planFd, plan));
    } finally {
      fs.closeSync(planFd);
    }
  };

  const send = (frame: Buffer): void => ignoreBrokenPipe(() => writeAllNonBlocking(syncFd, frame));
  let channel: InitChannel;
  const read = waitRead;
  if (read) {
    // Frames are read when the handshake waits for one, by a blocking read:
    // no stream, no event-loop round trip, and no Bun worker thread to
    // close the fd (a stream's end starts one: ~0.3 ms, and the exit pays
    // for it). The fd is ours to close.
    let open = true;
    channel = new InitChannel(
      send,
      () => {
        if (open) fs.closeSync(syncFd);
        open = false;
      },
      () => (open ? read(syncFd, 65536) : Buffer.alloc(0)),
    );
  } else {
    const reader = bun.file(syncFd).stream().getReader();
    channel = new InitChannel(send, () => void reader.cancel().catch(() => {}));
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          channel.feed(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }
      } catch {
        // a reset socket ends the channel like EOF does
      }
      channel.end();
    })();
  }
  const exited = proc.exited.then((code) => (proc.signalCode ? 128 + signalNumber(proc.signalCode) : code));
  return {
    pid: proc.pid,
    channel,
    exited,
    running: () => proc.exitCode === null && proc.signalCode === null,
    kill: (signal) => proc.kill(signal),
    sendPlan,
  };
}

function ignoreBrokenPipe(write: () => void): void {
  try {
    write();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE' && code !== 'ECONNRESET') throw err;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function writeAllNonBlocking(fd: number, data: Buffer): void {
  let off = 0;
  let pause = 0.05;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
      pause = 0.05;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, pause);
      pause = Math.min(pause * 2, 5);
    }
  }
}

// Bun and Node name the signal a child died of; the exit status wants its
// number (the runtime's own table, no node:os)
function signalNumber(name: string): number {
  try {
    return parseSignal(name);
  } catch {
    return 15;
  }
}

// ---- Node ------------------------------------------------------------------

async function spawnWithNode(o: StageSpawnOptions, args: string[]): Promise<StageProcess> {
  const { spawn } = await import('node:child_process');
  const stdio: (string | number | net.Socket)[] = stageStdio(o.preserveFds);
  if (o.consoleSocket) stdio.push(o.consoleSocket);
  let child: import('node:child_process').ChildProcess;
  try {
    child = spawn(o.init, args, { stdio: stdio as import('node:child_process').StdioOptions, env: {} });
  } catch (err) {
    // Bun's child_process throws some spawn failures (ETXTBSY) at once
    throw fromSystemError(Codes.InitSpawn, `start the native stage ${o.init}`, err, { path: o.init, syscall: 'spawn', hint: SPAWN_HINT });
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(fromSystemError(Codes.InitSpawn, `start the native stage ${o.init}`, err, { path: o.init, syscall: 'spawn', hint: SPAWN_HINT })),
    ),
  );
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 15))),
  );
  const planStream = child.stdio[planFdOf(o.preserveFds)] as NodeJS.WritableStream | null;
  const sock = child.stdio[planFdOf(o.preserveFds) + 1] as unknown as import('node:stream').Duplex | null;
  if (!planStream || !sock) {
    // ENOENT, EACCES and the like leave no pipes and arrive as an 'error' event
    await Promise.race([spawnError, new Promise((r) => setTimeout(r, 2000))]);
    throw new RuntimeError(Codes.InitSpawn, `start the native stage ${o.init}: it could not be run`, { path: o.init, hint: SPAWN_HINT });
  }
  planStream.on('error', () => {});
  const sendPlan = (plan: Buffer): void => void planStream.end(plan);
  const channel = new InitChannel(
    (frame) => sock.write(frame),
    () => sock.destroy(),
  );
  sock.on('data', (d: Buffer) => channel.feed(d));
  const end = (): void => channel.end();
  sock.on('end', end);
  sock.on('close', end);
  sock.on('error', end);
  // a spawn that fails later (the 'error' event) ends the handshake too
  spawnError.catch((err) => channel.fail(err));
  return {
    pid: child.pid!,
    channel,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => child.kill(signal),
    sendPlan,
  };
}
