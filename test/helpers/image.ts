// A container image built locally from Debian's busybox-static, so that the
// engine suites pull nothing from a registry: the rootfs of
// test/helpers/make-rootfs.sh as one uncompressed layer, an image config, and
// both archive layouts in one tar:
//   - OCI image layout (oci-layout, index.json, blobs/sha256/*), which
//     containerd (`ctr image import`) and podman (`oci-archive:`) read;
//   - Docker's `docker save` layout (manifest.json with RepoTags, pointing at
//     the same blobs), which `docker load`, `podman load` and containerd read.
// Usage as a program: node dist/test/helpers/image.js OUT.tar

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');

// the names each engine knows the image by
export const IMAGE_REPO = 'runt-busybox';
export const IMAGE_TAG = 'latest';
export const IMAGE_REF = `docker.io/library/${IMAGE_REPO}:${IMAGE_TAG}`;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
}

function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export interface BuiltImage {
  tar: string; // the archive to import/load
  ref: string; // full reference (docker.io/library/runt-busybox:latest)
  configDigest: string;
}

// Build the image archive at `out` (a scratch directory next to it is used
// and removed). Takes well under a second.
export function buildImage(out: string): BuiltImage {
  const work = fs.mkdtempSync(path.join(path.dirname(out), '.image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    run(path.join(REPO, 'test/helpers/make-rootfs.sh'), [rootfs]);
    // a writable home for --user runs and a place engines bind files into
    fs.mkdirSync(path.join(rootfs, 'home/user'), { recursive: true });
    fs.chownSync(path.join(rootfs, 'home/user'), 1000, 1000);
    fs.mkdirSync(path.join(rootfs, 'run'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'var/tmp'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'etc/hostname'), 'runt-busybox\n');
    const layerTar = path.join(work, 'layer.tar');
    run('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerTar, '.']);

    const layout = path.join(work, 'layout');
    const blobs = path.join(layout, 'blobs/sha256');
    fs.mkdirSync(blobs, { recursive: true });
    const put = (data: Buffer | string): { digest: string; size: number } => {
      const hex = sha256(data);
      fs.writeFileSync(path.join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
    };

    const layerData = fs.readFileSync(layerTar);
    const layer = put(layerData);
    const config = put(
      JSON.stringify({
        created: '1970-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['sh'],
          WorkingDir: '/',
        },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
        history: [{ created: '1970-01-01T00:00:00Z', created_by: 'runt test/helpers/image.ts: Debian busybox-static' }],
      }),
    );
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(
      path.join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'io.containerd.image.name': IMAGE_REF, 'org.opencontainers.image.ref.name': IMAGE_TAG },
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    fs.writeFileSync(
      path.join(layout, 'manifest.json'),
      JSON.stringify([
        {
          Config: `blobs/sha256/${config.digest.slice(7)}`,
          RepoTags: [`${IMAGE_REPO}:${IMAGE_TAG}`],
          Layers: [`blobs/sha256/${layer.digest.slice(7)}`],
        },
      ]),
    );
    run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', layout, '-cf', out, '.']);
    return { tar: out, ref: IMAGE_REF, configDigest: config.digest };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'runt-busybox.tar'));
  const img = buildImage(out);
  process.stdout.write(`${img.tar} ${img.ref} ${img.configDigest}\n`);
}
