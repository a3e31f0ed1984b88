/**
 * The top functions of a V8 .cpuprofile (from `--cpu-prof`), by self time
 * and by total time (self + callees); or of a .heapprofile (from
 * `--heap-prof`), by the bytes still live when the profile was taken that
 * each function allocated itself, and that it and its callees allocated; or
 * of a .heapsnapshot (the rr bench writes one with --heap-prof), by the
 * bytes and count of live objects of each kind (constructor, string, code...).
 *
 * usage: node dist/bench/profile-summary.js FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [TOP]
 */
import { readFileSync, statSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function isProfile(v: unknown): v is CpuProfile {
  return (
    typeof v === 'object' &&
    v !== null &&
    'nodes' in v &&
    Array.isArray(v.nodes) &&
    'samples' in v &&
    Array.isArray(v.samples) &&
    'timeDeltas' in v &&
    Array.isArray(v.timeDeltas)
  );
}

/** A node of a sampling heap profile: live bytes sampled at this stack. */
interface HeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

function isHeapProfile(v: unknown): v is { readonly head: HeapNode } {
  return typeof v === 'object' && v !== null && 'head' in v && typeof v.head === 'object' && v.head !== null && 'selfSize' in v.head;
}

function label(f: CallFrame): string {
  const where = f.url === '' ? '' : ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${where}`;
}

function show(title: string, m: Map<string, number>, total: number, top: number, unit: (v: number) => string): void {
  console.log(title);
  const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, v] of rows) console.log(`  ${unit(v).padStart(12)} ${((v / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
}

function heapSummary(file: string, head: HeapNode, top: number): void {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  // Iterative: allocation stacks can be deeper than the call stack allows recursion.
  const stack: { node: HeapNode; path: readonly string[] }[] = [{ node: head, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    const name = label(node.callFrame);
    const own = node.callFrame.url.startsWith('file:') && !path.includes(name) ? [...path, name] : path;
    if (node.selfSize > 0) {
      total += node.selfSize;
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      for (const p of own) inclusive.set(p, (inclusive.get(p) ?? 0) + node.selfSize);
    }
    for (const c of node.children) stack.push({ node: c, path: own });
  }
  const mb = (v: number): string => `${(v / 1048576).toFixed(1)} MiB`;
  console.log(`${file}: ${mb(total)} live at the end (sampled)`);
  show('allocated by the function itself:', self, total, top, mb);
  show('allocated by it and its callees, project and dependency code:', inclusive, total, top, mb);
}

/** The parts of V8's heap snapshot JSON this summary reads. */
interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly unknown[] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

function isHeapSnapshot(v: unknown): v is HeapSnapshot {
  return typeof v === 'object' && v !== null && 'snapshot' in v && 'nodes' in v && Array.isArray(v.nodes) && 'strings' in v;
}

/** Live bytes by object kind: "object Foo" by constructor, else V8's node type (string, code, array...). */
function snapshotSummary(file: string, s: HeapSnapshot, top: number): void {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  if (!Array.isArray(types)) throw new Error(`${file}: no node types in the snapshot's meta`);
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const bytes = new Map<string, number>();
  const counts = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = String(types[s.nodes[i + typeAt]!]);
    const size = s.nodes[i + sizeAt]!;
    const name = s.strings[s.nodes[i + nameAt]!] ?? '?';
    const kind = type === 'object' || type === 'native' || type === 'closure' ? `${type} ${name}` : type;
    bytes.set(kind, (bytes.get(kind) ?? 0) + size);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    total += size;
  }
  const mb = (v: number): string => `${(v / 1048576).toFixed(1)} MiB`;
  console.log(`${file}: ${mb(total)} in ${count(s.nodes.length / width)} objects`);
  const named = new Map([...bytes].map(([k, v]) => [`${k} (${count(counts.get(k) ?? 0)})`, v]));
  show('live bytes by kind (count):', named, total, top, mb);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function main(): void {
  const [file, topText] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary FILE.cpuprofile|FILE.heapprofile|FILE.heapsnapshot [TOP]');
  const top = Number(topText ?? 20);
  // V8 strings stop at 512 MiB, and a snapshot of a million-route heap is larger.
  if (statSync(file).size >= 0x1fffffe8) throw new Error(`${file} is too large to read here (over 512 MiB): open it in Chrome DevTools, or take one of a smaller table`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (isHeapProfile(parsed)) return heapSummary(file, parsed.head, top);
  if (isHeapSnapshot(parsed)) return snapshotSummary(file, parsed, top);
  if (!isProfile(parsed)) throw new Error(`${file} is neither a V8 CPU profile, a heap profile nor a heap snapshot`);
  const byId = new Map(parsed.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of parsed.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfUs = new Map<number, number>();
  let total = 0;
  parsed.samples.forEach((id, i) => {
    const dt = parsed.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    // Each function counts once per sample however deep it recurses.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      // Node's own frames (streams, timers) hold everything below them and say nothing.
      if (!n.callFrame.url.startsWith('file:')) continue;
      const l = label(n.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
  }

  const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  show('self time:', self, total, top, ms);
  show('total time (self + callees), project and dependency code:', inclusive, total, top, ms);
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}
