// The OCI spec speaks cgroup v1; these are runc's conversions to cgroup v2
// values (opencontainers/cgroups utils.go), kept bit-for-bit so that a
// container gets the same kernel settings under runt as under runc.

// cpu.shares [2, 262144] → cpu.weight [1, 10000]. runc ≥ 1.3.2 / crun ≥ 1.23
// use a quadratic fit in log2 space that maps min→min, max→max and the
// default 1024→100 (opencontainers/runc#4785); the old linear formula
// 1 + ((shares-2)*9999)/262142 mapped 1024 to 39.
export function convertCPUSharesToCgroupV2Value(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(Math.pow(10, exponent));
}

// blkio.weight [10, 1000] → io.weight [1, 10000], linear
// (ConvertBlkIOToIOWeightValue: 1 + (x-10)*9999/990, integer division).
export function convertBlkIOToIOWeightValue(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

// memory.swap in the spec is memory+swap (v1 memsw); v2 memory.swap.max is
// swap alone. ConvertMemorySwapToCgroupV2Value, including its error cases.
// Returns the v2 value (-1 = "max", 0 = unset) or an error message.
export function convertMemorySwapToCgroupV2Value(memorySwap: number, memory: number): number | { error: string } {
  if (memory === -1 && memorySwap === 0) return -1; // both unlimited, as on v1
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === -1) return memorySwap;
  if (memory === 0) return { error: 'unable to set swap limit without memory limit' };
  if (memory < 0) return { error: `invalid memory value: ${memory}` };
  if (memorySwap < memory) return { error: 'memory+swap limit should be >= memory limit' };
  return memorySwap - memory;
}

// fs2 numToStr: 0 → "" (unset, do not write), -1 → "max".
export function numToStr(value: number): string {
  if (value === 0) return '';
  if (value === -1) return 'max';
  return BigInt(value).toString();
}
