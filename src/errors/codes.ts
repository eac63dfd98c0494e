// Stable error codes. A code is never reassigned or reused, even if the error
// it named goes away: users search for them. Families by thousands:
//   1xxx command line, 2xxx config.json, 3xxx container state,
//   4xxx native init stage, 5xxx cgroups, 6xxx hooks, 7xxx signals/processes,
//   8xxx seccomp/LSM, 9xxx internal.

export const Codes = {
  // 1xxx: command line
  UnknownCommand: 'RUNT1001',
  BadFlag: 'RUNT1002',
  MissingArgument: 'RUNT1003',
  InvalidId: 'RUNT1004',
  BadFlagValue: 'RUNT1005',
  ConsoleSocket: 'RUNT1006',
  PidFile: 'RUNT1007',

  // 2xxx: config.json
  ConfigRead: 'RUNT2001',
  ConfigJson: 'RUNT2002',
  ConfigSchema: 'RUNT2003',
  ConfigSemantic: 'RUNT2004',
  RootfsMissing: 'RUNT2005',
  NamespaceConfig: 'RUNT2006',
  MountConfig: 'RUNT2007',
  IdMappingConfig: 'RUNT2008',
  ProcessConfig: 'RUNT2009',
  SysctlConfig: 'RUNT2010',
  DeviceConfig: 'RUNT2011',
  HookConfig: 'RUNT2012',
  CapabilityConfig: 'RUNT2013',
  RlimitConfig: 'RUNT2014',
  UnsupportedFeature: 'RUNT2015',
  BundleMissing: 'RUNT2016',

  // 3xxx: container state
  ContainerNotFound: 'RUNT3001',
  ContainerExists: 'RUNT3002',
  WrongStatus: 'RUNT3003',
  StateRoot: 'RUNT3004',
  StateCorrupt: 'RUNT3005',
  StateWrite: 'RUNT3006',

  // 4xxx: native init stage
  InitSpawn: 'RUNT4001',
  InitProtocol: 'RUNT4002',
  InitStep: 'RUNT4003',
  InitDied: 'RUNT4004',
  StartHandshake: 'RUNT4005',
  ExecFailed: 'RUNT4006',
  IdMapWrite: 'RUNT4007',

  // 5xxx: cgroups
  CgroupSetup: 'RUNT5001',
  CgroupRemove: 'RUNT5002',
  CgroupPath: 'RUNT5003',
  CgroupResource: 'RUNT5004',
  CgroupSystemd: 'RUNT5005',
  CgroupFreeze: 'RUNT5006',

  // 6xxx: hooks
  HookFailed: 'RUNT6001',
  HookTimeout: 'RUNT6002',

  // 7xxx: signals and processes
  BadSignal: 'RUNT7001',
  KillFailed: 'RUNT7002',
  ProcessGone: 'RUNT7003',

  // 9xxx: internal
  Internal: 'RUNT9001',
} as const;

export type ErrorCode = (typeof Codes)[keyof typeof Codes];
