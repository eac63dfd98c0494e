// The runtime's side of the sync socket with the native stage: frames are
// u32 length (LE), u8 type, payload (src/native/plan-format.h).

import { errnoName } from './errno.js';

export { errnoName };
import { Codes } from '../errors/codes.js';
import { RuntimeError } from '../errors/runtime-error.js';
import type { Plan } from '../plan/types.js';

export interface Frame {
  type: string;
  payload: Buffer;
}

// Frames in both directions over whatever transport the stage was started
// with (stage-process.ts): the transport feeds bytes in and says when they
// end, or gives `pull`, which next() calls to wait for more bytes (empty:
// the end); `write` sends one encoded frame.
export class InitChannel {
  private buf: Buffer = Buffer.alloc(0);
  private frames: Frame[] = [];
  private waiting: { resolve: (f: Frame | null) => void; reject: (e: unknown) => void } | undefined;
  private closed = false;
  private failure: unknown;

  constructor(
    private readonly write: (frame: Buffer) => void,
    private readonly release: () => void,
    private readonly pull?: () => Buffer,
  ) {}

  feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 5 + len) break;
      this.frames.push({ type: String.fromCharCode(this.buf[4]!), payload: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    this.wake();
  }

  end(): void {
    this.closed = true;
    this.wake();
  }

  // the transport broke in a way worth reporting (the stage could not run)
  fail(err: unknown): void {
    this.failure = err;
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.frames.length) {
      this.waiting = undefined;
      w.resolve(this.frames.shift()!);
    } else if (this.closed) {
      this.waiting = undefined;
      if (this.failure !== undefined) w.reject(this.failure);
      else w.resolve(null);
    }
  }

  // The next frame, or null once the init closed its end.
  next(): Promise<Frame | null> {
    while (this.pull && !this.frames.length && !this.closed) {
      let d: Buffer;
      try {
        d = this.pull();
      } catch {
        d = Buffer.alloc(0); // a reset socket ends the channel like EOF does
      }
      if (d.length) this.feed(d);
      else this.end();
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.wake();
    });
  }

  send(type: string, payload: string | Buffer = ''): void {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const h = Buffer.alloc(5);
    h.writeUInt32LE(body.length, 0);
    h.writeUInt8(type.charCodeAt(0), 4);
    this.write(Buffer.concat([h, body]));
  }

  close(): void {
    this.release();
  }
}

// An error frame: step \t op index \t syscall \t errno \t path \t message.
// The message names what the init was doing; the plan adds the operation's
// own description, so the user sees the root cause in one line.
export function initError(payload: Buffer, plan: Plan | undefined, what: string): RuntimeError {
  const [step = '?', opIndex = '-1', syscall = '', errno = '0', path = '', ...rest] = payload.toString('utf8').split('\t');
  const message = rest.join('\t');
  const e = errnoName(Number(errno));
  const op = plan?.ops[Number(opIndex)];
  const detail = Number(errno) ? `${syscall ? syscall + ': ' : ''}${e.name} (${e.text})` : '';
  const hint = hintFor(step, e.name, path, syscall);
  return new RuntimeError(Codes.InitStep, `${what}: ${message}${detail ? `: ${detail}` : ''}`, {
    phase: step,
    syscall: syscall || undefined,
    errno: Number(errno) ? e.name : undefined,
    path: path || undefined,
    hint: hint ?? (op && op.text !== message ? `the failing step was: ${op.text}` : undefined),
  });
}

function hintFor(step: string, errno: string, path: string, syscall = ''): string | undefined {
  if (step === 'exec' && (syscall === 'chdir' || syscall === 'getcwd')) return 'process.cwd must be a directory inside the container';
  if (step === 'exec' && errno === 'ENOENT') return 'check process.args[0] and PATH in process.env; the path is looked up inside the rootfs';
  if (step === 'exec' && errno === 'EACCES') return 'the program must be executable by process.user inside the container';
  if (step === 'console' && path === '/dev/ptmx') return 'terminal: true needs a devpts mount on /dev/pts with ptmxmode=0666 and /dev mounted';
  if (step === 'sysctl' && errno === 'ENOENT') return 'this kernel does not have that sysctl, or /proc is not mounted in the container';
  if (step === 'mount' && errno === 'EPERM') return 'in a user namespace some mounts (proc, sysfs, cgroup) need their namespace to be owned by it';
  return undefined;
}
