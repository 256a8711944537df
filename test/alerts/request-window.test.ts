import { describe, expect, it } from 'vitest';
import { RequestWindow } from '../../src/alerts/request-window.js';

const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 5, 15, 12, minute, second));

describe('RequestWindow', () => {
  it('counts requests and 5xx over the last N whole minutes plus the current one', () => {
    const w = new RequestWindow(5);
    for (let i = 0; i < 90; i++) w.record(at(0, i % 60), 200, 10);
    for (let i = 0; i < 10; i++) w.record(at(1), 503, 10);
    expect(w.summary(at(3))).toMatchObject({ requests: 100, errors5xx: 10, errorRatio: 0.1 });
    expect(w.summary(at(5, 59))).toMatchObject({ requests: 100 });
    expect(w.summary(at(6))).toMatchObject({ requests: 10, errors5xx: 10 }); // minute 0 left the window
    expect(w.summary(at(7))).toMatchObject({ requests: 0, errorRatio: null, p95Ms: null });
  });

  it('reuses a ring slot for a new minute instead of adding to stale counts', () => {
    const w = new RequestWindow(2);
    w.record(at(0), 500, 10);
    w.record(at(3), 200, 10); // same slot as minute 0 (ring of 3)
    expect(w.summary(at(3))).toMatchObject({ requests: 1, errors5xx: 0 });
  });

  it('p95 is interpolated inside its latency bucket, like histogram_quantile', () => {
    const w = new RequestWindow(5);
    for (let i = 0; i < 94; i++) w.record(at(0), 200, 20);
    for (let i = 0; i < 6; i++) w.record(at(0), 200, 450);
    const p95 = w.summary(at(0)).p95Ms!;
    expect(p95).toBeGreaterThan(400);
    expect(p95).toBeLessThanOrEqual(500);
    const fast = new RequestWindow(5);
    for (let i = 0; i < 100; i++) fast.record(at(0), 200, 12);
    expect(fast.summary(at(0)).p95Ms!).toBeLessThanOrEqual(15);
    const slow = new RequestWindow(5);
    for (let i = 0; i < 100; i++) slow.record(at(0), 200, 120_000);
    expect(slow.summary(at(0)).p95Ms).toBe(30_000); // above the last bound: reported as the last bound
  });
});
