import type { Clock } from '../../src/plugins/core.js';

/** A clock tests move by hand: streaks, lockouts, windows and schedules depend on it. */
export class TestClock implements Clock {
  private current: number;
  constructor(start: string | Date = '2026-06-15T12:00:00Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: string | Date): void {
    this.current = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }
}
