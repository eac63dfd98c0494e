// A thin binding of libsystemd's sd-bus (libsystemd.so.0) through koffi: a
// system bus connection, method calls with typed arguments, replies read
// value by value, and the wait for a signal. What crun uses to talk to
// systemd (src/libcrun/cgroup-systemd.c); it is loaded only by the systemd
// cgroup driver, so other commands pay nothing for it.
//
// sd-bus functions return a negative errno on failure (sd-bus(3)); a failed
// method call also fills an sd_bus_error with the D-Bus error name and text.

import { errnoName as errnoInfo } from '../runtime/errno.js';
import { loadKoffiSync, type Koffi } from './ffi.js';

const LIB = 'libsystemd.so.0';

export class BusError extends Error {
  // D-Bus error name ("org.freedesktop.systemd1.NoSuchUnit") when the
  // peer answered with an error, else undefined
  readonly busName: string | undefined;
  readonly errno: string | undefined;
  constructor(message: string, busName?: string, errno?: string) {
    super(message);
    this.name = 'BusError';
    this.busName = busName;
    this.errno = errno;
  }
}

// sd-bus returns -errno; the name comes from the runtime's table (node:os
// would cost every create its load, systemd or not)
function errnoName(ret: number): string {
  return errnoInfo(-ret).name;
}

interface Fns {
  koffi: Koffi;
  openSystem: (out: unknown[]) => number;
  flushCloseUnref: (bus: unknown) => unknown;
  newMethodCall: (bus: unknown, out: unknown[], dest: string, path: string, iface: string, member: string) => number;
  appendBasic: (m: unknown, type: number, p: Buffer) => number;
  appendArray: (m: unknown, type: number, p: Buffer, size: number) => number;
  openContainer: (m: unknown, type: number, contents: string) => number;
  closeContainer: (m: unknown) => number;
  enterContainer: (m: unknown, type: number, contents: string | null) => number;
  exitContainer: (m: unknown) => number;
  readString: (m: unknown, type: number, out: (string | null)[]) => number;
  readU32: (m: unknown, type: number, out: number[]) => number;
  call: (bus: unknown, m: unknown, usec: bigint, err: Buffer, out: unknown[]) => number;
  errorFree: (err: Buffer) => void;
  unref: (m: unknown) => unknown;
  process: (bus: unknown, out: unknown[]) => number;
  wait: (bus: unknown, usec: bigint) => number;
  isSignal: (m: unknown, iface: string, member: string) => number;
  errorStruct: unknown;
}

let fns: Fns | undefined;

function bind(): Fns {
  if (fns) return fns;
  const koffi = loadKoffiSync();
  if (!koffi) throw new BusError('cannot load koffi (the FFI module) to reach libsystemd');
  let lib;
  try {
    lib = koffi.load(LIB);
  } catch (err) {
    throw new BusError(`cannot load ${LIB}: ${(err as Error).message}`);
  }
  // anonymous: a named type can be declared only once per process
  const errorStruct = koffi.struct({ name: 'const char *', message: 'const char *', _need_free: 'int' });
  fns = {
    koffi,
    openSystem: lib.func('int sd_bus_open_system(_Out_ void **bus)'),
    flushCloseUnref: lib.func('void *sd_bus_flush_close_unref(void *bus)'),
    newMethodCall: lib.func('int sd_bus_message_new_method_call(void *bus, _Out_ void **m, const char *dest, const char *path, const char *iface, const char *member)'),
    appendBasic: lib.func('int sd_bus_message_append_basic(void *m, char type, const void *p)'),
    appendArray: lib.func('int sd_bus_message_append_array(void *m, char type, const void *p, size_t size)'),
    openContainer: lib.func('int sd_bus_message_open_container(void *m, char type, const char *contents)'),
    closeContainer: lib.func('int sd_bus_message_close_container(void *m)'),
    enterContainer: lib.func('int sd_bus_message_enter_container(void *m, char type, const char *contents)'),
    exitContainer: lib.func('int sd_bus_message_exit_container(void *m)'),
    readString: lib.func('int sd_bus_message_read_basic(void *m, char type, _Out_ const char **p)'),
    readU32: lib.func('int sd_bus_message_read_basic(void *m, char type, _Out_ uint32_t *p)'),
    call: lib.func('int sd_bus_call(void *bus, void *m, uint64_t usec, void *err, _Out_ void **reply)'),
    errorFree: lib.func('void sd_bus_error_free(void *err)'),
    unref: lib.func('void *sd_bus_message_unref(void *m)'),
    process: lib.func('int sd_bus_process(void *bus, _Out_ void **m)'),
    wait: lib.func('int sd_bus_wait(void *bus, uint64_t usec)'),
    isSignal: lib.func('int sd_bus_message_is_signal(void *m, const char *iface, const char *member)'),
    errorStruct,
  };
  return fns;
}

const ch = (c: string): number => c.charCodeAt(0);

function check(ret: number, what: string): number {
  if (ret < 0) throw new BusError(`${what}: ${errnoName(ret)}`, undefined, errnoName(ret));
  return ret;
}

// Writes the arguments of a method call.
export class MessageWriter {
  constructor(private readonly f: Fns, readonly m: unknown) {}

  string(type: 's' | 'o', v: string): this {
    check(this.f.appendBasic(this.m, ch(type), Buffer.from(v + '\0', 'utf8')), `append ${type}`);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    check(this.f.appendBasic(this.m, ch('u'), b), 'append u');
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    check(this.f.appendBasic(this.m, ch('t'), b), 'append t');
    return this;
  }
  bool(v: boolean): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v ? 1 : 0);
    check(this.f.appendBasic(this.m, ch('b'), b), 'append b');
    return this;
  }
  bytes(v: Uint8Array): this {
    const b = Buffer.from(v);
    check(this.f.appendArray(this.m, ch('y'), b, b.length), 'append ay');
    return this;
  }
  // type: 'a' (array), 'r' (struct), 'v' (variant), 'e' (dict entry)
  open(type: 'a' | 'r' | 'v' | 'e', contents: string): this {
    check(this.f.openContainer(this.m, ch(type), contents), `open container ${type}${contents}`);
    return this;
  }
  close(): this {
    check(this.f.closeContainer(this.m), 'close container');
    return this;
  }
}

// Reads a reply or a signal, value by value.
export class MessageReader {
  constructor(private readonly f: Fns, readonly m: unknown) {}
  string(type: 's' | 'o' = 's'): string {
    const out: (string | null)[] = [null];
    check(this.f.readString(this.m, ch(type), out), `read ${type}`);
    return out[0] ?? '';
  }
  u32(): number {
    const out = [0];
    check(this.f.readU32(this.m, ch('u'), out), 'read u');
    return out[0]!;
  }
  enter(type: 'v' | 'a' | 'r', contents: string): this {
    check(this.f.enterContainer(this.m, ch(type), contents), `enter container ${type}${contents}`);
    return this;
  }
  exit(): this {
    check(this.f.exitContainer(this.m), 'exit container');
    return this;
  }
}

export interface Signal {
  iface: string;
  member: string;
}

export class SystemBus {
  private readonly f: Fns;
  private bus: unknown;

  private constructor(f: Fns, bus: unknown) {
    this.f = f;
    this.bus = bus;
  }

  // Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS or
  // /run/dbus/system_bus_socket).
  static open(): SystemBus {
    const f = bind();
    const out: unknown[] = [null];
    const r = f.openSystem(out);
    if (r < 0) throw new BusError(`cannot connect to the D-Bus system bus: ${errnoName(r)}`, undefined, errnoName(r));
    return new SystemBus(f, out[0]);
  }

  close(): void {
    if (this.bus) this.f.flushCloseUnref(this.bus);
    this.bus = null;
  }

  // A method call; `write` appends the arguments, `read` reads the reply
  // (which is freed afterwards). Throws BusError with the D-Bus error name.
  call<T>(
    dest: string,
    path: string,
    iface: string,
    member: string,
    write: ((w: MessageWriter) => void) | undefined,
    read: (r: MessageReader) => T,
    timeoutUs = 30_000_000n,
  ): T {
    const f = this.f;
    const out: unknown[] = [null];
    check(f.newMethodCall(this.bus, out, dest, path, iface, member), `${member}: new method call`);
    const m = out[0];
    const errBuf = Buffer.alloc(24);
    const reply: unknown[] = [null];
    try {
      if (write) write(new MessageWriter(f, m));
      const r = f.call(this.bus, m, timeoutUs, errBuf, reply);
      if (r < 0) {
        const e = f.koffi.decode(errBuf, f.errorStruct as never) as { name: string | null; message: string | null };
        f.errorFree(errBuf);
        throw new BusError(e.name ? `${e.message ?? e.name}` : `${member}: ${errnoName(r)}`, e.name ?? undefined, errnoName(r));
      }
      return read(new MessageReader(f, reply[0]));
    } finally {
      if (reply[0]) f.unref(reply[0]);
      f.unref(m);
    }
  }

  // Waits for a signal accepted by `match` (return non-undefined) until
  // the deadline (ms since epoch); other messages are dropped. The caller
  // must have subscribed with AddMatch before triggering it.
  waitSignal<T>(sig: Signal, match: (r: MessageReader) => T | undefined, deadline: number): T | undefined {
    const f = this.f;
    for (;;) {
      const out: unknown[] = [null];
      const r = check(f.process(this.bus, out), 'process the bus');
      const m = out[0];
      if (m) {
        try {
          if (f.isSignal(m, sig.iface, sig.member) > 0) {
            const v = match(new MessageReader(f, m));
            if (v !== undefined) return v;
          }
        } finally {
          f.unref(m);
        }
      }
      if (r > 0) continue;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      check(f.wait(this.bus, BigInt(Math.min(left, 1000)) * 1000n), 'wait on the bus');
    }
  }
}
