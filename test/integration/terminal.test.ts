// terminal: true with --console-socket: the pty master reaches the socket
// (SCM_RIGHTS), the slave is the process's stdio, controlling terminal and
// /dev/console.
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO, isRoot, setup, sh, uniqueId } from '../helpers/runt.js';

const t = isRoot ? test : test.skip;

function receiver(socket: string): { done: Promise<{ out: string; err: string }>; ready: Promise<void> } {
  const p = spawn(path.join(REPO, 'bin/recvtty'), [socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((r) => (signalReady = r));
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('listening')) signalReady();
  });
  const done = new Promise<{ out: string; err: string }>((resolve) => p.on('close', () => resolve({ out, err })));
  return { done, ready };
}

t('the pty master goes to the console socket; the slave is stdio, ctty and /dev/console', async (tt) => {
  const env = setup(tt);
  const socket = path.join(env.tmp, 'console.sock');
  const rx = receiver(socket);
  await rx.ready;
  const id = uniqueId();
  const b = env.bundle((s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 40, width: 100 };
    sh('tty; stty size; [ -t 0 ] && echo stdin-is-tty; stat -c %t:%T /dev/console; ps -o pid,tty | tail -1 | tr -s " "')(s);
  });
  const r = env.runt(['run', '-d', '--console-socket', socket, '--bundle', b, id]);
  tt.is(r.status, 0, r.stderr);
  const { out, err } = await rx.done;
  tt.regex(err, /name=\/dev\/pts\/\d+/);
  const lines = out.replace(/\r/g, '').split('\n');
  tt.regex(lines[0]!, /^\/dev\/pts\/\d+$/);
  tt.is(lines[1], '40 100');
  tt.is(lines[2], 'stdin-is-tty');
  tt.regex(lines[3]!, /^88:\d+$/); // /dev/console is the pty slave (major 136 = 0x88)
});

t('terminal: true without a console socket is a clear error for create', (tt) => {
  const env = setup(tt);
  const b = env.bundle((s) => (s.process!.terminal = true));
  const r = env.runt(['create', '--bundle', b, uniqueId()]);
  tt.is(r.status, 1);
  tt.regex(r.stderr, /process\.terminal is true but no --console-socket was given/);
});
