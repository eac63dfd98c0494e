// POSIX path arithmetic without node:path (on Bun every node: built-in a
// call imports costs start-up time; src/sys/fs.ts). The same results as
// node:path's posix functions, after its algorithm (lib/path.js); the unit
// test compares them on generated paths.

const SLASH = 47; // '/'
const DOT = 46; // '.'

// Resolve "." and ".." and collapse slashes in a path without its leading
// slash; ".." above the start is kept only when allowed (relative paths).
function normalizeSegments(p: string, allowAboveRoot: boolean): string {
  let res = '';
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= p.length; ++i) {
    if (i < p.length) code = p.charCodeAt(i);
    else if (code === SLASH) break;
    else code = SLASH;
    if (code === SLASH) {
      if (lastSlash === i - 1 || dots === 1) {
        // an empty segment or "."
      } else if (dots === 2) {
        const endsInDotDot = res.length >= 2 && lastSegmentLength === 2 && res.charCodeAt(res.length - 1) === DOT && res.charCodeAt(res.length - 2) === DOT;
        if (!endsInDotDot && res.length > 2) {
          const cut = res.lastIndexOf('/');
          res = cut === -1 ? '' : res.slice(0, cut);
          lastSegmentLength = cut === -1 ? 0 : res.length - 1 - res.lastIndexOf('/');
          lastSlash = i;
          dots = 0;
          continue;
        }
        if (!endsInDotDot && res.length !== 0) {
          res = '';
          lastSegmentLength = 0;
          lastSlash = i;
          dots = 0;
          continue;
        }
        if (allowAboveRoot) {
          res += res.length > 0 ? '/..' : '..';
          lastSegmentLength = 2;
        }
      } else {
        res += (res.length > 0 ? '/' : '') + p.slice(lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) {
      ++dots;
    } else {
      dots = -1;
    }
  }
  return res;
}

export function normalize(p: string): string {
  if (p.length === 0) return '.';
  const absolute = p.charCodeAt(0) === SLASH;
  const trailing = p.charCodeAt(p.length - 1) === SLASH;
  let out = normalizeSegments(p, !absolute);
  if (out.length === 0) return absolute ? '/' : trailing ? './' : '.';
  if (trailing) out += '/';
  return absolute ? `/${out}` : out;
}

export function join(...parts: string[]): string {
  const joined = parts.filter((s) => s.length > 0).join('/');
  return joined.length === 0 ? '.' : normalize(joined);
}

// Right to left until a part is absolute; the working directory last.
export function resolve(...parts: string[]): string {
  let resolved = '';
  let absolute = false;
  for (let i = parts.length - 1; i >= -1 && !absolute; i--) {
    const p = i >= 0 ? parts[i]! : process.cwd();
    if (p.length === 0) continue;
    resolved = `${p}/${resolved}`;
    absolute = p.charCodeAt(0) === SLASH;
  }
  resolved = normalizeSegments(resolved, !absolute);
  if (absolute) return `/${resolved}`;
  return resolved.length > 0 ? resolved : '.';
}

function trimTrailingSlashes(p: string): string {
  let end = p.length;
  while (end > 1 && p.charCodeAt(end - 1) === SLASH) end--;
  return p.slice(0, end);
}

// The part before the last segment, with only the slash before that
// segment removed ("a//b" -> "a/"), as node:path says.
export function dirname(p: string): string {
  if (p.length === 0) return '.';
  const hasRoot = p.charCodeAt(0) === SLASH;
  let end = -1;
  let inTrailingSlashes = true;
  for (let i = p.length - 1; i >= 1; --i) {
    if (p.charCodeAt(i) === SLASH) {
      if (!inTrailingSlashes) {
        end = i;
        break;
      }
    } else {
      inTrailingSlashes = false;
    }
  }
  if (end === -1) return hasRoot ? '/' : '.';
  if (hasRoot && end === 1) return '//';
  return p.slice(0, end);
}

export function basename(p: string): string {
  const t = trimTrailingSlashes(p);
  if (t === '/') return '';
  return t.slice(t.lastIndexOf('/') + 1);
}
