// Every scheduled job, in one list. A new job is a definition file plus one line here.
import { activateChallenges, autoCompleteChallenges } from './definitions/challenges.js';
import { hitchReset, streakReminders } from './definitions/engagement.js';
import { jobHistoryPrune, loginThrottlePrune, notificationsCleanup, statsRefresh } from './definitions/housekeeping.js';
import { mediaOrphans } from './definitions/media.js';
import { backupCreate, backupPrune, backupVerify } from './definitions/backup.js';
import type { JobDefinition } from './types.js';

export const JOBS: JobDefinition[] = [
  activateChallenges,
  autoCompleteChallenges,
  statsRefresh,
  streakReminders,
  hitchReset,
  notificationsCleanup,
  jobHistoryPrune,
  loginThrottlePrune,
  backupCreate,
  backupPrune,
  backupVerify,
  mediaOrphans,
];
