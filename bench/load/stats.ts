// Latency bookkeeping: every sample kept (a run of 100 users for an hour is ~400k numbers), exact
// nearest-rank percentiles from the sorted samples, grouped by route template as the server's own
// metrics group them.

export interface Outcome {
  route: string;
  ms: number;
  /** 429, 5xx, a network error or timeout, or a status the workload did not expect. */
  error: string | null;
}

export class Samples {
  private values = new Float64Array(1024);
  count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

/** Nearest rank: the smallest sample with at least p % of the samples at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface RouteSummary {
  route: string;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function summarize(route: string, samples: Samples, errors: number): RouteSummary {
  const s = samples.sorted();
  return { route, count: samples.count, errors, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : Number.NaN };
}

export class Recorder {
  recording = false;
  private readonly routes = new Map<string, { samples: Samples; errors: number }>();
  private readonly all = new Samples();
  private window = new Samples();
  readonly errorKinds = new Map<string, number>();
  errors = 0;
  /** Expected non-2xx answers (a repeated check-in's 409), by route. */
  readonly expected = new Map<string, number>();

  record(o: Outcome): void {
    if (!this.recording) return;
    let r = this.routes.get(o.route);
    if (!r) this.routes.set(o.route, (r = { samples: new Samples(), errors: 0 }));
    r.samples.add(o.ms);
    this.all.add(o.ms);
    this.window.add(o.ms);
    if (o.error) {
      r.errors++;
      this.errors++;
      const kind = `${o.route}: ${o.error}`;
      this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
    }
  }

  expectedAnswer(route: string): void {
    if (this.recording) this.expected.set(route, (this.expected.get(route) ?? 0) + 1);
  }

  /** p95 and count of the requests since the previous call (the soak's latency over time). */
  takeWindow(): { count: number; p95: number } {
    const w = this.window;
    this.window = new Samples();
    return { count: w.count, p95: percentile(w.sorted(), 95) };
  }

  summary(): { routes: RouteSummary[]; overall: RouteSummary } {
    const routes = [...this.routes].map(([route, r]) => summarize(route, r.samples, r.errors)).sort((a, b) => b.count - a.count);
    return { routes, overall: summarize('all', this.all, this.errors) };
  }
}

/**
 * Theil–Sen slope: the median of the slopes between every pair of points. A garbage-collection
 * spike in one sample moves a least-squares line a lot over a few minutes; it barely moves this.
 */
export function robustSlope(points: { x: number; y: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  if (slopes.length === 0) return Number.NaN;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
}

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : sxy / sxx;
}
