// Loaded with `--import` into an EAP process by `bench/profile.ts … alloc`: samples the process's
// allocations (V8's sampling heap profiler, one sample per 4 KiB on average) from start to exit,
// keeping the objects either garbage collector freed, so the profile shows where the garbage comes
// from and not only what is still alive. Written to EAP_HEAP_PROFILE_FILE when the process is
// stopped (SIGTERM, SIGINT) or exits. Does nothing without that variable.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.EAP_HEAP_PROFILE_FILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // A session of the process's own thread answers at once, before post returns.
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) console.error(`heap profile not written: ${error.message}`);
      else writeFileSync(file, JSON.stringify(result.profile));
    });
  };
  process.prependListener('SIGTERM', write);
  process.prependListener('SIGINT', write);
  process.on('exit', write);
}
