// podman drives the runtime unchanged: Debian's podman and conmon with
// `--runtime /abs/bin/runt`, private storage (vfs) and state under a temp
// dir, the cgroupfs manager, file events, no network (test/engines/podman.ts).
// The shared scenarios (test/engines/scenarios.ts) plus a user-namespace run.
// RUNTIME=runt (default), runc (the reference) or runt,runc.

import fs from 'node:fs';
import { readOr } from '../engines/common.js';
import { Podman } from '../engines/podman.js';
import { registerCliEngineSuite } from '../engines/scenarios.js';

registerCliEngineSuite('podman', (rt) => new Podman(rt), ({ t, title, need }) => {
  t(title('a user namespace: --uidmap/--gidmap'), async (tt) => {
    const e = need(tt);
    const cid = e.cidfile();
    const r = e.run(['sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "; touch /written && echo wrote; stat -c %u:%g /bin/busybox'], {
      flags: ['--rm', '--cidfile', cid, '--uidmap', '0:300000:65536', '--gidmap', '0:300000:65536'],
    });
    tt.is(r.status, 0, r.stderr);
    tt.is(r.stdout, '0\n 0 300000 65536\n 0 300000 65536\nwrote\n0:0\n');
    tt.deepEqual(await e.settled([e.readCidfile(cid)]), []);
  });

  t(title('the init of a user-namespace container runs as the mapped host uid'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sleep', '1000'], { flags: ['-d', '--uidmap', '0:300000:65536', '--gidmap', '0:300000:65536'] });
    tt.is(r.status, 0, r.stderr);
    const id = r.stdout.trim();
    const pid = Number(e.inspect(id, '{{.State.Pid}}'));
    tt.regex(readOr(`/proc/${pid}/status`), /\nUid:\s+300000\s+300000\s+300000\s+300000\n/);
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });

  t(title('create, init (the runtime\'s create), start; rm -f of a created container'), async (tt) => {
    const e = need(tt);
    const cr = e.cli(['create', ...e.runFlags(), e.image, 'sh', '-c', 'echo started; exit 4']);
    tt.is(cr.status, 0, cr.stderr);
    const id = cr.stdout.trim();
    tt.is(e.cli(['init', id]).status, 0);
    tt.is(e.inspect(id, '{{.State.Status}}'), 'initialized');
    tt.is(e.runtimeState(id)?.status, 'created');
    tt.is(e.cli(['start', '--attach', id]).status, 4);
    tt.is(e.cli(['logs', id]).stdout, 'started\n');
    tt.is(e.remove(id).status, 0);
    // a created container that never runs: rm -f is the runtime's delete --force
    const c2 = e.cli(['create', ...e.runFlags(), e.image, 'sleep', '1000']);
    const id2 = c2.stdout.trim();
    tt.is(e.cli(['init', id2]).status, 0);
    const pid = Number(e.inspect(id2, '{{.State.Pid}}'));
    tt.true(pid > 0);
    tt.is(e.remove(id2).status, 0);
    tt.deepEqual(await e.settled([id, id2]), []);
  });

  t(title('a pod: the infra container (catatonit) and a member joining its namespaces by path'), async (tt) => {
    const e = need(tt);
    const pod = `pod-${process.pid}`;
    const c = e.cli(['pod', 'create', '--name', pod, '--network', 'none', '--cgroup-parent', e.cgroupParent]);
    tt.is(c.status, 0, c.stderr);
    const s = e.cli(['pod', 'start', pod]);
    tt.is(s.status, 0, s.stderr);
    const infra = e.cli(['pod', 'inspect', '--format', '{{.InfraContainerID}}', pod]).stdout.trim();
    const infraPid = Number(e.inspect(infra, '{{.State.Pid}}'));
    tt.true(infraPid > 0);
    const r = e.cli(['run', '--rm', '--pod', pod, e.image, 'sh', '-c', 'hostname; for n in net ipc uts; do readlink /proc/self/ns/$n; done']);
    tt.is(r.status, 0, r.stderr);
    const ns = ['net', 'ipc', 'uts'].map((n) => fs.readlinkSync(`/proc/${infraPid}/ns/${n}`));
    tt.is(r.stdout, `${pod}\n${ns.join('\n')}\n`);
    const rm = e.cli(['pod', 'rm', '--force', pod], { timeout: 60_000 });
    tt.is(rm.status, 0, rm.stderr);
    tt.deepEqual(await e.settled([infra]), []);
  });
});
