/**
 * Every process the bench starts registers how to stop it here, so an error,
 * a timeout or Ctrl-C leaves nothing running. The interop harness also
 * SIGTERMs the daemons it tracks at exit, as a last resort if a stop hangs.
 */
type Stop = () => Promise<void>;

const stops = new Map<number, { what: string; stop: Stop }>();
let nextId = 0;

/** Registers a stop; the returned function unregisters it once the caller has stopped the thing itself. */
export function onCleanup(what: string, stop: Stop): () => void {
  const id = nextId++;
  stops.set(id, { what, stop });
  return () => {
    stops.delete(id);
  };
}

/** Runs every registered stop, newest first, each bounded so one stuck daemon cannot hold up the rest. */
export async function cleanupAll(limitMs = 15_000): Promise<void> {
  const pending = [...stops.entries()].reverse();
  stops.clear();
  for (const [, { what, stop }] of pending) {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((res) => {
      timer = setTimeout(() => res('timeout'), limitMs);
    });
    try {
      const r = await Promise.race([stop().then(() => 'ok' as const), limit]);
      if (r === 'timeout') console.error(`bench: stopping ${what} took over ${limitMs} ms; left to the exit handler`);
    } catch (e) {
      console.error(`bench: stopping ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

let interrupted = false;

/** True once a signal asked the bench to stop: results after it mean nothing. */
export function wasInterrupted(): boolean {
  return interrupted;
}

export function installSignalHandlers(): void {
  const handler = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // A second Ctrl-C: exit now; the exit hooks still SIGTERM tracked daemons.
      process.exit(130);
    }
    interrupted = true;
    console.error(`\nbench: ${signal}, stopping everything started...`);
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
}
