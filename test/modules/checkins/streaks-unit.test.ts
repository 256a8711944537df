import { describe, expect, it } from 'vitest';
import { advanceStreak, liveStreak, milestoneReached, pointsFor } from '../../../src/modules/checkins/streaks.js';
import { localDate } from '../../../src/modules/challenges/local-dates.js';

describe('advanceStreak', () => {
  it('first ever check-in starts at 1, not broken', () => {
    expect(advanceStreak({ current: 0, longest: 0, lastDate: null }, '2026-06-15')).toEqual({
      current: 1, longest: 1, lastDate: '2026-06-15', advanced: true, broken: false,
    });
  });
  it('yesterday continues; across a month boundary too', () => {
    expect(advanceStreak({ current: 4, longest: 9, lastDate: '2026-06-30' }, '2026-07-01')).toMatchObject({ current: 5, longest: 9, advanced: true });
  });
  it('a gap breaks and restarts at 1', () => {
    expect(advanceStreak({ current: 4, longest: 4, lastDate: '2026-06-10' }, '2026-06-15')).toMatchObject({ current: 1, longest: 4, broken: true });
  });
  it('the same day changes nothing; a zone change moving today backwards neither', () => {
    expect(advanceStreak({ current: 3, longest: 3, lastDate: '2026-06-15' }, '2026-06-15')).toMatchObject({ current: 3, advanced: false, broken: false });
    expect(advanceStreak({ current: 3, longest: 3, lastDate: '2026-06-16' }, '2026-06-15')).toMatchObject({ current: 3, lastDate: '2026-06-16', advanced: false });
  });
  it('points: 10 on a streak of one day, 20 once it continues yesterday', () => {
    expect(pointsFor(advanceStreak({ current: 0, longest: 0, lastDate: null }, '2026-06-15'))).toBe(10);
    expect(pointsFor(advanceStreak({ current: 1, longest: 1, lastDate: '2026-06-14' }, '2026-06-15'))).toBe(20);
  });
  it('milestones at 7, 30 and 100 only on the advancing check-in', () => {
    expect(milestoneReached(advanceStreak({ current: 6, longest: 6, lastDate: '2026-06-14' }, '2026-06-15'))).toBe(7);
    expect(milestoneReached(advanceStreak({ current: 29, longest: 29, lastDate: '2026-06-14' }, '2026-06-15'))).toBe(30);
    expect(milestoneReached(advanceStreak({ current: 99, longest: 99, lastDate: '2026-06-14' }, '2026-06-15'))).toBe(100);
    expect(milestoneReached(advanceStreak({ current: 7, longest: 7, lastDate: '2026-06-15' }, '2026-06-15'))).toBeNull();
    expect(milestoneReached(advanceStreak({ current: 7, longest: 7, lastDate: '2026-06-14' }, '2026-06-15'))).toBeNull();
  });
  it('liveStreak: lapsed once a whole local day passed without a check-in', () => {
    expect(liveStreak(5, '2026-06-14', '2026-06-15')).toBe(5);
    expect(liveStreak(5, '2026-06-15', '2026-06-15')).toBe(5);
    expect(liveStreak(5, '2026-06-13', '2026-06-15')).toBe(0);
    expect(liveStreak(0, null, '2026-06-15')).toBe(0);
  });
});

describe('localDate', () => {
  it('is the calendar date in the zone, and UTC for an unknown zone', () => {
    const at = new Date('2026-06-15T23:00:00Z');
    expect(localDate(at, 'Asia/Ho_Chi_Minh')).toBe('2026-06-16');
    expect(localDate(at, 'America/Los_Angeles')).toBe('2026-06-15');
    expect(localDate(at, 'Not/AZone')).toBe('2026-06-15');
  });
});
