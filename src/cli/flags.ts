// The one source of truth for runt's command line: every command, flag and
// argument, with runc's names. The fast parser (parse.ts) reads it for every
// call; help (help.ts, yargs) renders it only when asked.

export type FlagType = 'boolean' | 'string' | 'number' | 'array';

export interface FlagSpec {
  name: string;
  alias?: string[]; // single-letter aliases without the dash
  type: FlagType;
  desc: string;
  default?: string | number | boolean;
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  args: string; // usage text of the positional arguments
  minArgs: number;
  maxArgs: number; // Infinity for commands that take a command line
  // after this many positionals the rest is passed on untouched (exec, ps)
  restAfter?: number;
  flags: FlagSpec[];
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', desc: 'root directory for storage of container state (this should be located in tmpfs)', default: '/run/runt' },
  { name: 'log', type: 'string', desc: 'set the log file to write runt logs to (default is stderr)' },
  { name: 'log-format', type: 'string', desc: 'set the log format ("text" or "json")', default: 'text' },
  { name: 'debug', type: 'boolean', desc: 'enable debug logging' },
  { name: 'systemd-cgroup', type: 'boolean', desc: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"' },
  { name: 'rootless', type: 'string', desc: 'ignore cgroup permission errors ("true", "false", or "auto"); accepted for runc compatibility', default: 'auto' },
  { name: 'criu', type: 'string', desc: 'path to the criu binary; accepted for runc compatibility', hidden: true },
  { name: 'help', alias: ['h'], type: 'boolean', desc: 'show help' },
  { name: 'version', alias: ['v'], type: 'boolean', desc: 'print the version' },
];

const consoleSocket: FlagSpec = {
  name: 'console-socket',
  type: 'string',
  desc: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal',
};
const pidFile: FlagSpec = { name: 'pid-file', type: 'string', desc: 'specify the file to write the process id to' };
const bundle: FlagSpec = { name: 'bundle', alias: ['b'], type: 'string', desc: 'path to the root of the bundle directory, defaults to the current directory', default: '' };
const noPivot: FlagSpec = { name: 'no-pivot', type: 'boolean', desc: 'do not use pivot root to jail process inside rootfs (MS_MOVE and chroot instead)' };
const noNewKeyring: FlagSpec = { name: 'no-new-keyring', type: 'boolean', desc: 'do not create a new session keyring for the container' };
const preserveFds: FlagSpec = { name: 'preserve-fds', type: 'number', desc: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 };
const pidfdSocket: FlagSpec = { name: 'pidfd-socket', type: 'string', desc: 'path to an AF_UNIX socket which will receive the pidfd of the init process', hidden: true };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'create',
    summary: 'create a container',
    args: '<container-id>',
    minArgs: 1,
    maxArgs: 1,
    flags: [bundle, consoleSocket, pidFile, noPivot, noNewKeyring, preserveFds, pidfdSocket],
  },
  { name: 'start', summary: 'executes the user defined process in a created container', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'state', summary: 'output the state of a container', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'kill',
    summary: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
    args: '<container-id> [signal]',
    minArgs: 1,
    maxArgs: 2,
    flags: [{ name: 'all', alias: ['a'], type: 'boolean', desc: 'send the specified signal to all processes inside the container' }],
  },
  {
    name: 'delete',
    summary: 'delete any resources held by the container often used with detached container',
    args: '<container-id>',
    minArgs: 1,
    maxArgs: 1,
    flags: [{ name: 'force', alias: ['f'], type: 'boolean', desc: 'forcibly deletes the container if it is still running (uses SIGKILL)' }],
  },
  {
    name: 'run',
    summary: 'create and run a container',
    args: '<container-id>',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      bundle,
      consoleSocket,
      { name: 'detach', alias: ['d'], type: 'boolean', desc: 'detach from the container\'s process' },
      { name: 'keep', type: 'boolean', desc: 'do not delete the container after it exits' },
      pidFile,
      noPivot,
      noNewKeyring,
      preserveFds,
      pidfdSocket,
      { name: 'no-subreaper', type: 'boolean', desc: 'disable the use of the subreaper used to reap reparented processes', hidden: true },
    ],
  },
  {
    name: 'list',
    summary: 'lists containers started by runt with the given root',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [
      { name: 'format', alias: ['f'], type: 'string', desc: 'select one of: table or json', default: 'table' },
      { name: 'quiet', alias: ['q'], type: 'boolean', desc: 'display only container IDs' },
    ],
  },
  {
    name: 'ps',
    summary: 'ps displays the processes running inside a container',
    args: '<container-id> [ps options]',
    minArgs: 1,
    maxArgs: Infinity,
    restAfter: 1,
    flags: [{ name: 'format', alias: ['f'], type: 'string', desc: 'select one of: table or json', default: 'table' }],
  },
  { name: 'pause', summary: 'pause suspends all processes inside the container', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'resume', summary: 'resumes all processes that have been previously paused', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'spec',
    summary: 'create a new specification file',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [
      bundle,
      { name: 'rootless', type: 'boolean', desc: 'generate a configuration for a rootless container' },
    ],
  },
  { name: 'features', summary: 'show the enabled features', args: '', minArgs: 0, maxArgs: 0, flags: [] },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
