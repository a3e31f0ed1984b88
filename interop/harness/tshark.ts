/** Captures BGP on lo with tshark and checks or decodes the result. */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { killAndWait, makeRunDir, processGone, runOk, track, waitFor } from './tools.js';

export interface CaptureOptions {
  readonly ports: readonly number[];
  /** Restricts the capture to traffic from/to these hosts, so parallel tests don't see each other. */
  readonly addresses?: readonly string[];
  readonly name?: string;
  /** Default ['lo']; namespace labs add the veth their sessions cross. */
  readonly interfaces?: readonly string[];
}

export interface Capture {
  readonly path: string;
  readonly filter: string;
  /** Stops tshark after it has flushed the file; resolves to the pcapng path. */
  stop(): Promise<string>;
}

/** Above this the expert info is a warning or an error (0x00600000 warning, 0x00800000 error). */
const EXPERT_WARNING = 6291456;
export const PROBLEM_FILTER = `bgp && (_ws.malformed || _ws.expert.severity >= ${EXPERT_WARNING})`;

export function bpfFor(ports: readonly number[], addresses: readonly string[] = []): string {
  if (ports.length === 0) throw new Error('startCapture: at least one port');
  const p = ports.map((x) => `port ${x}`).join(' or ');
  const a = addresses.map((x) => `host ${x}`).join(' or ');
  return a === '' ? `tcp and (${p})` : `tcp and (${p}) and (${a})`;
}

/** tshark only dissects 179 as BGP by itself. */
export function decodeAs(ports: readonly number[]): string[] {
  return [...new Set(ports)].filter((p) => p !== 179).flatMap((p) => ['-d', `tcp.port==${p},bgp`]);
}

export async function startCapture(o: CaptureOptions): Promise<Capture> {
  const dir = await makeRunDir(o.name ?? 'capture');
  const path = join(dir, 'capture.pcapng');
  const filter = bpfFor(o.ports, o.addresses);
  const interfaces = o.interfaces ?? ['lo'];
  // `-f` before the first `-i` is every interface's filter (after one, only that interface's).
  const child = spawn('tshark', ['-f', filter, ...interfaces.flatMap((i) => ['-i', i]), '-w', path, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exited: number | null | undefined;
  const exitP = new Promise<void>((res) =>
    child.once('exit', (code) => {
      exited = code;
      res();
    }),
  );
  const pid = await new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('spawn', () => (child.pid === undefined ? rej(new Error('tshark: no pid')) : res(child.pid)));
  });
  track(pid);
  // "Capturing on" is printed once dumpcap has opened the interface; the pcapng header follows.
  // Packets sent before that would be lost, so a test must not start daemons until this resolves.
  await waitFor(
    () => {
      if (exited !== undefined) return 'exited';
      return stderr.includes('Capturing on') && existsSync(path) && statSync(path).size > 0;
    },
    { what: `tshark capturing on ${interfaces.join(', ')} (${filter})`, until: (v) => v === true || v === 'exited', timeoutMs: 15_000, intervalMs: 50 },
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; tshark stderr: ${stderr.trim()}`);
  });
  if (exited !== undefined) throw new Error(`tshark exited (${exited}) before capturing: ${stderr.trim()}`);

  let stopped: Promise<string> | undefined;
  return {
    path,
    filter,
    // Safe to call more than once (a test's finish and its cleanup both may).
    stop(): Promise<string> {
      stopped ??= (async () => {
        if (exited === undefined && !processGone(pid)) {
          // dumpcap hands packets over in batches: a stop right after the last message
          // loses it (seen: a whole 0.1 s session missing). Give the batch time to land.
          await new Promise((res) => setTimeout(res, 700));
          // SIGINT lets tshark stop dumpcap and flush the last packets; SIGTERM could lose them.
          child.kill('SIGINT');
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([exitP, new Promise((res) => (timer = setTimeout(res, 5_000)))]);
          clearTimeout(timer);
        }
        await killAndWait(pid, 'tshark');
        return path;
      })();
      return stopped;
    },
  };
}

export interface PcapCheck {
  readonly frames: number;
  readonly bgpMessages: number;
  /** One entry per offending frame: "frame N: expert messages". */
  readonly problems: string[];
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

export async function checkPcap(path: string, ports: readonly number[]): Promise<PcapCheck> {
  const d = decodeAs(ports);
  const frames = lines(await runOk('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number'], { timeoutMs: 60_000 })).length;
  const types = await runOk(
    'tshark',
    ['-r', path, ...d, '-Y', 'bgp', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'bgp.type'],
    { timeoutMs: 60_000 },
  );
  const bgpMessages = lines(types).flatMap((l) => l.split(',')).filter((x) => x.trim() !== '').length;
  const bad = await runOk(
    'tshark',
    ['-r', path, ...d, '-Y', PROBLEM_FILTER, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=; ', '-e', 'frame.number', '-e', '_ws.expert.message'],
    { timeoutMs: 60_000 },
  );
  const problems = lines(bad).map((l) => {
    const [frame, msg] = l.split('\t');
    return `frame ${frame ?? '?'}: ${msg ?? '(malformed)'}`;
  });
  return { frames, bgpMessages, problems };
}

/** One entry per matching frame: field name → every occurrence in that frame (absent fields are missing). */
export type DecodedFrame = Record<string, string[]>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes chosen fields of frames matching a display filter. Uses `-T json -e`,
 * because EVPN and community values contain every separator `-T fields` could use.
 */
export async function decodeFields(
  path: string,
  ports: readonly number[],
  filter: string,
  fields: readonly string[],
): Promise<DecodedFrame[]> {
  const out = await runOk(
    'tshark',
    ['-r', path, ...decodeAs(ports), '-Y', filter, '-T', 'json', ...fields.flatMap((f) => ['-e', f])],
    { timeoutMs: 60_000 },
  );
  if (out.trim() === '') return [];
  const parsed: unknown = JSON.parse(out);
  if (!Array.isArray(parsed)) throw new Error('tshark -T json did not return an array');
  return parsed.map((pkt: unknown): DecodedFrame => {
    const layers = isRecord(pkt) && isRecord(pkt._source) && isRecord(pkt._source.layers) ? pkt._source.layers : {};
    const frame: DecodedFrame = {};
    for (const [k, v] of Object.entries(layers)) {
      if (Array.isArray(v)) frame[k] = v.map((x) => String(x));
    }
    return frame;
  });
}
