// A small seeded PRNG (mulberry32) so that every fuzz case can be made
// again from (seed, index) alone, and the pools of values it draws from.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  static forCase(seed: number, index: number): Rng {
    // hash the seed, then the case number into it (murmur3's finalizer), so
    // that neither neighbouring cases nor neighbouring seeds share streams
    return new Rng(fmix32((fmix32(seed >>> 0) + Math.imul(index + 1, 0x9e3779b9)) >>> 0));
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  // Strings that tend to break things: empty, long, odd bytes, paths.
  string(max = 24): string {
    switch (this.int(10)) {
      case 0:
        return '';
      case 1:
        return 'x'.repeat(this.pick([255, 256, 4096, 65536, 1 << 20]));
      case 2:
        return this.pick(['..', '.', '/', '//', '/..', '../..', '/proc/self/fd/3', '\u0000', '\n', ' ', 'ä€😀', '%s%n', '$(reboot)', '-1', 'null', 'true']);
      case 3:
        return '/' + Array.from({ length: 1 + this.int(5) }, () => this.pick(['a', '..', '.', 'tmp', 'proc', 'dev', 'x y', ''])).join('/');
      default: {
        const n = this.int(max) + 1;
        let s = '';
        for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789_-.'[this.int(39)];
        return s;
      }
    }
  }

  number(): number {
    return this.pick([0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, -(2 ** 31), 2 ** 53, 2 ** 63, -(2 ** 63), 2 ** 64, 1e308, -1e308, 0.5, -0.5, 1e-9, 65535, 65536, 4095, 4096]);
  }

  // A value of another type than `type` (a JSON schema type name).
  wrongTypeFor(type: string | undefined): unknown {
    const all: [string, () => unknown][] = [
      ['string', () => this.string()],
      ['integer', () => this.number()],
      ['number', () => this.number()],
      ['boolean', () => this.chance(0.5)],
      ['null', () => null],
      ['array', () => [this.string(), this.number()]],
      ['object', () => ({ [this.string(6) || 'k']: this.string() })],
    ];
    return this.pick(all.filter(([t]) => t !== type && !(type === 'number' && t === 'integer') && !(type === 'integer' && t === 'number')))[1]();
  }
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
