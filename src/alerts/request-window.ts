// This instance's recent traffic, for the request-based alerts (5xx ratio, p95 latency): one
// bucket per clock minute in a fixed ring, each holding a count, a 5xx count and a latency
// histogram. Recording is O(1) with no allocation; the window summary merges at most 60 buckets.
// Per instance by design: each instance judges the traffic it served (see docs/MONITORING.md).

// Upper bounds (ms) of the latency histogram; p95 is interpolated inside its bucket, as PromQL's
// histogram_quantile does, so the built-in alert and the Prometheus rule agree.
export const LATENCY_BOUNDS_MS = [
  5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180, 200, 225, 250, 300, 350, 400, 500, 650, 800, 1000, 1500,
  2000, 3000, 5000, 10000, 30000,
];

interface Bucket {
  minute: number;
  count: number;
  errors: number;
  latency: Uint32Array; // LATENCY_BOUNDS_MS.length + 1 (the last one: above every bound)
}

export interface WindowSummary {
  requests: number;
  errors5xx: number;
  /** null when there were no requests. */
  errorRatio: number | null;
  p95Ms: number | null;
}

const MINUTE = 60_000;

export class RequestWindow {
  private readonly ring: Bucket[];

  constructor(private readonly minutes: number) {
    this.ring = Array.from({ length: minutes + 1 }, () => ({ minute: -1, count: 0, errors: 0, latency: new Uint32Array(LATENCY_BOUNDS_MS.length + 1) }));
  }

  record(at: Date, status: number, durationMs: number): void {
    const minute = Math.floor(at.getTime() / MINUTE);
    const bucket = this.ring[minute % this.ring.length]!;
    if (bucket.minute !== minute) {
      bucket.minute = minute;
      bucket.count = 0;
      bucket.errors = 0;
      bucket.latency.fill(0);
    }
    bucket.count++;
    if (status >= 500) bucket.errors++;
    bucket.latency[latencyIndex(durationMs)]!++;
  }

  /** The last `minutes` whole minutes plus the current one. */
  summary(now: Date): WindowSummary {
    const current = Math.floor(now.getTime() / MINUTE);
    const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    let requests = 0;
    let errors5xx = 0;
    for (const b of this.ring) {
      if (b.minute < current - this.minutes || b.minute > current) continue;
      requests += b.count;
      errors5xx += b.errors;
      for (let i = 0; i < latency.length; i++) latency[i]! += b.latency[i]!;
    }
    return { requests, errors5xx, errorRatio: requests === 0 ? null : errors5xx / requests, p95Ms: quantile(latency, requests, 0.95) };
  }
}

function latencyIndex(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function quantile(counts: number[], total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i] ?? lower; // above the last bound: report the last bound
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}
