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
  { name: 'trace', type: 'boolean', desc: 'print per-phase timings as JSON lines on stderr (or to --log); also RUNT_TRACE=1' },
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
  {
    // runc exec.go; flags stop at the container id so the command keeps its own
    name: 'exec',
    summary: 'execute new process inside the container',
    args: '<container-id> <command> [args...] || -p process.json <container-id>',
    minArgs: 1,
    maxArgs: Infinity,
    restAfter: 1,
    flags: [
      consoleSocket,
      { name: 'cwd', type: 'string', desc: 'current working directory in the container' },
      { name: 'env', alias: ['e'], type: 'array', desc: 'set environment variables (NAME=value; repeatable)' },
      { name: 'tty', alias: ['t'], type: 'boolean', desc: 'allocate a pseudo-TTY' },
      { name: 'user', alias: ['u'], type: 'string', desc: 'UID (format: <uid>[:<gid>])' },
      { name: 'additional-gids', alias: ['g'], type: 'array', desc: 'additional gids (repeatable)' },
      { name: 'process', alias: ['p'], type: 'string', desc: 'path to the process.json' },
      { name: 'detach', alias: ['d'], type: 'boolean', desc: 'detach from the container\'s process' },
      pidFile,
      { name: 'process-label', type: 'string', desc: 'set the asm process label for the process commonly used with selinux' },
      { name: 'apparmor', type: 'string', desc: 'set the apparmor profile for the process' },
      { name: 'no-new-privs', type: 'boolean', desc: 'set the no new privileges value for the process' },
      { name: 'cap', alias: ['c'], type: 'array', desc: 'add a capability to the bounding set for the process (repeatable)' },
      preserveFds,
      { name: 'ignore-paused', type: 'boolean', desc: 'allow exec in a paused container' },
    ],
  },
  { name: 'pause', summary: 'pause suspends all processes inside the container', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'resume', summary: 'resumes all processes that have been previously paused', args: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'update',
    summary: 'update container resource constraints',
    args: '<container-id>',
    minArgs: 1,
    maxArgs: 1,
    // runc update.go; sizes take units (512m, 1g), -1 means unlimited
    flags: [
      { name: 'resources', alias: ['r'], type: 'string', desc: "path to the file containing the resources to update or '-' to read from the standard input (a runtime-spec LinuxResources JSON object; all other options are then ignored)" },
      { name: 'blkio-weight', type: 'number', desc: 'Specifies per cgroup weight, range is from 10 to 1000' },
      { name: 'cpu-period', type: 'string', desc: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-quota', type: 'string', desc: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpu-burst', type: 'string', desc: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
      { name: 'cpu-share', type: 'string', desc: 'CPU shares (relative weight vs. other containers)' },
      { name: 'cpu-shares', type: 'string', desc: 'same as --cpu-share', hidden: true },
      { name: 'cpu-rt-period', type: 'string', desc: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-rt-runtime', type: 'string', desc: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpuset-cpus', type: 'string', desc: 'CPU(s) to use' },
      { name: 'cpuset-mems', type: 'string', desc: 'Memory node(s) to use' },
      { name: 'cpu-idle', type: 'string', desc: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
      { name: 'kernel-memory', type: 'string', desc: '(obsoleted; do not use)', hidden: true },
      { name: 'kernel-memory-tcp', type: 'string', desc: '(obsoleted; do not use)', hidden: true },
      { name: 'memory', type: 'string', desc: 'Memory limit (in bytes)' },
      { name: 'memory-reservation', type: 'string', desc: 'Memory reservation or soft_limit (in bytes)' },
      { name: 'memory-swap', type: 'string', desc: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
      { name: 'pids-limit', type: 'number', desc: 'Maximum number of pids allowed in the container' },
      { name: 'l3-cache-schema', type: 'string', desc: 'The string of Intel RDT/CAT L3 cache schema' },
      { name: 'mem-bw-schema', type: 'string', desc: 'The string of Intel RDT/MBA memory bandwidth schema' },
    ],
  },
  {
    name: 'events',
    summary: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
    args: '<container-id>',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'interval', type: 'string', desc: 'set the stats collection interval', default: '5s' },
      { name: 'stats', type: 'boolean', desc: "display the container's stats then exit" },
    ],
  },
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
  {
    name: 'features',
    summary: 'show the enabled features',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    flags: [{ name: 'host', type: 'boolean', desc: 'add a "host" object: what this kernel and system support' }],
  },
  {
    name: 'validate',
    summary: 'check a bundle: schema, unknown keys, semantics, and what this host supports (exit 1: errors, 2: warnings only)',
    args: '[container-id]',
    minArgs: 0,
    maxArgs: 1,
    flags: [bundle, formatTextJson()],
  },
  {
    name: 'explain',
    summary: 'print the kernel operations create would perform, without doing anything (no root needed)',
    args: '[container-id]',
    minArgs: 0,
    maxArgs: 1,
    flags: [bundle, consoleSocket, pidFile, noPivot, noNewKeyring, preserveFds, formatTextJson()],
  },
  { name: 'doctor', summary: 'check this host for runt and container engines (exit 1 if a check fails)', args: '', minArgs: 0, maxArgs: 0, flags: [formatTextJson()] },
];

function formatTextJson(): FlagSpec {
  return { name: 'format', alias: ['f'], type: 'string', desc: 'select one of: text or json', default: 'text' };
}

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
