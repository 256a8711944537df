// Streaks and points as pure functions of (stored state, today's local date), so every rule is
// testable without a database. A streak counts consecutive local days with at least one check-in.
import { addDays } from '../challenges/local-dates.js';

export const MILESTONES: readonly number[] = [7, 30, 100];
export const BASE_POINTS = 10;
/** A check-in on a day that continues yesterday's streak earns double. */
export const STREAK_POINTS = 20;

export interface StreakState {
  current: number;
  longest: number;
  /** Local date of the latest check-in, or null before the first. */
  lastDate: string | null;
}

export interface StreakStep extends StreakState {
  lastDate: string;
  /** This check-in added a day to the streak (the first check-in of its local day). */
  advanced: boolean;
  /** A streak existed but lapsed (a local day was missed); this check-in starts again at 1. */
  broken: boolean;
}

export function advanceStreak(state: StreakState, today: string): StreakStep {
  // Same day (or a time-zone change moved "today" behind the last check-in): the day already counts.
  if (state.lastDate !== null && state.lastDate >= today) {
    const current = Math.max(state.current, 1);
    return { current, longest: Math.max(state.longest, current), lastDate: state.lastDate, advanced: false, broken: false };
  }
  const continues = state.lastDate !== null && state.lastDate === addDays(today, -1);
  const current = continues ? state.current + 1 : 1;
  return {
    current,
    longest: Math.max(state.longest, current),
    lastDate: today,
    advanced: true,
    broken: !continues && state.lastDate !== null && state.current > 0,
  };
}

/** 10 points, or 20 when the day continues a streak from yesterday (so every check-in that day). */
export const pointsFor = (step: StreakStep) => (step.current >= 2 ? STREAK_POINTS : BASE_POINTS);

/** The milestone this step reached, if any: only on the check-in that made the streak that long. */
export const milestoneReached = (step: StreakStep) => (step.advanced && MILESTONES.includes(step.current) ? step.current : null);

/**
 * The streak as of `today`: stored counters change only on a check-in, so a streak whose last day is
 * older than yesterday has lapsed even though the stored number still shows it.
 */
export function liveStreak(current: number, lastDate: string | null, today: string): number {
  return lastDate !== null && lastDate >= addDays(today, -1) ? current : 0;
}
