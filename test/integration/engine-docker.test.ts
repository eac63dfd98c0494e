// Docker drives the runtime unchanged: Debian's docker.io, dockerd started by
// the test on a private data-root/exec-root/pidfile/socket with
// `--add-runtime e2e-<name>=/abs/bin/runt` (test/engines/docker.ts), the
// shared scenarios (test/engines/scenarios.ts; `docker update` reaches the
// runtime's `update --resources -`) and Docker's own: `docker top` (the
// runtime's `ps --format json`), restart.
// RUNTIME=runt (default), runc (the reference) or runt,runc.

import { Docker } from '../engines/docker.js';
import { registerCliEngineSuite } from '../engines/scenarios.js';

registerCliEngineSuite('docker', (rt) => new Docker(rt), ({ t, title, need }) => {
  t(title('docker top lists the processes (the runtime\'s ps), restart starts the same container again'), async (tt) => {
    const e = need(tt);
    const r = e.run(['sh', '-c', 'sleep 1000 & sleep 1000'], { flags: ['-d'] });
    tt.is(r.status, 0, r.stderr);
    const id = r.stdout.trim();
    const top = e.cli(['top', id]);
    tt.is(top.status, 0, top.stderr);
    tt.is(top.stdout.split('\n').filter((l) => /sleep 1000/.test(l)).length, 2, top.stdout);
    const pid1 = e.inspect(id, '{{.State.Pid}}');
    const rs = e.cli(['restart', '-t', '1', id], { timeout: 60_000 });
    tt.is(rs.status, 0, rs.stderr);
    tt.is(e.inspect(id, '{{.State.Status}}'), 'running');
    tt.not(e.inspect(id, '{{.State.Pid}}'), pid1);
    tt.is(e.remove(id).status, 0);
    tt.deepEqual(await e.settled([id]), []);
  });
});
