import test from 'ava';
import { parseSignal, signalName, signalNames, SIGRTMIN, SIGRTMAX } from '../../../src/linux/signals.js';
import { RuntimeError } from '../../../src/errors/runtime-error.js';
import { Codes } from '../../../src/errors/codes.js';

const CLASSIC: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19,
  TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28,
  IO: 29, PWR: 30, SYS: 31,
};

test('every classic name in every accepted spelling', (t) => {
  for (const [name, n] of Object.entries(CLASSIC)) {
    t.is(parseSignal(name), n, name);
    t.is(parseSignal(`SIG${name}`), n, `SIG${name}`);
    t.is(parseSignal(name.toLowerCase()), n, name.toLowerCase());
    t.is(parseSignal(`sig${name.toLowerCase()}`), n, `sig${name}`);
    t.is(parseSignal(`Sig${name[0]}${name.slice(1).toLowerCase()}`), n);
  }
});

test('moby aliases', (t) => {
  t.is(parseSignal('IOT'), 6);
  t.is(parseSignal('SIGCLD'), 17);
  t.is(parseSignal('poll'), 29);
});

test('numbers 1..64', (t) => {
  for (let n = 1; n <= 64; n++) t.is(parseSignal(String(n)), n);
  t.is(parseSignal('09'), 9);
  t.is(parseSignal('+15'), 15);
});

test('real-time names as moby spells them', (t) => {
  t.is(parseSignal('RTMIN'), SIGRTMIN);
  t.is(parseSignal('SIGRTMIN'), 34);
  t.is(parseSignal('RTMIN+3'), 37);
  t.is(parseSignal('sigrtmin+15'), 49);
  t.is(parseSignal('RTMAX-14'), 50);
  t.is(parseSignal('RTMAX-2'), 62);
  t.is(parseSignal('rtmax'), SIGRTMAX);
  t.is(parseSignal('SIGRTMAX-1'), 63);
});

test('every real-time signal has exactly one name', (t) => {
  for (let n = SIGRTMIN; n <= SIGRTMAX; n++) {
    const name = signalName(n);
    t.truthy(name);
    t.is(parseSignal(name!), n);
  }
});

function rejects(t: import('ava').ExecutionContext, raw: string): void {
  const err = t.throws(() => parseSignal(raw), { instanceOf: RuntimeError });
  t.is(err?.code, Codes.BadSignal);
  t.is(err?.message, `invalid signal ${JSON.stringify(raw)}`);
  t.regex(err?.hint ?? '', /KILL/);
}

test('rejects unknown names', (t) => {
  for (const raw of ['FOO', 'SIGFOO', 'SIG', 'SIGSIGKILL', 'KILL ', ' KILL', 'RTMIN+16', 'RTMAX-15', 'RTMIN-1', 'RTMAX+1', 'RTMIN+0', 'UNUSED', '9x', '1.5']) {
    rejects(t, raw);
  }
});

test('rejects numbers out of 1..64 and empty', (t) => {
  for (const raw of ['0', '-9', '65', '99999999999999999999', '']) rejects(t, raw);
});

test('signalName', (t) => {
  t.is(signalName(9), 'SIGKILL');
  t.is(signalName(6), 'SIGABRT');
  t.is(signalName(17), 'SIGCHLD');
  t.is(signalName(29), 'SIGIO');
  t.is(signalName(34), 'SIGRTMIN');
  t.is(signalName(37), 'SIGRTMIN+3');
  t.is(signalName(62), 'SIGRTMAX-2');
  t.is(signalName(64), 'SIGRTMAX');
  t.is(signalName(0), undefined);
  t.is(signalName(32), undefined);
  t.is(signalName(65), undefined);
});

test('signalName round-trips through parseSignal', (t) => {
  for (const [, n] of Object.entries(CLASSIC)) t.is(parseSignal(signalName(n)!), n);
});

test('signalNames lists classic, aliases and 31 real-time names', (t) => {
  const names = signalNames();
  t.is(names.length, 31 + 3 + 31);
  t.true(names.includes('KILL'));
  t.true(names.includes('RTMIN+15'));
  t.false(names.includes('RTMIN+16'));
});
