// What a check-in must carry (§3). Media ids are checked for ownership and kind against the media
// table; the requirement depends on the challenge's checkin_type when require_evidence is on.
import { invalid } from '../../errors.js';
import type { CheckinType } from '../challenges/repository.js';

export interface Evidence {
  caption: string | null;
  photoMediaId: string | null;
  videoMediaId: string | null;
}

/** `kinds` maps each given media id to its kind, for media the user owns (absent = not theirs / unknown). */
export function checkEvidence(rule: { checkin_type: CheckinType; require_evidence: boolean }, given: Evidence, kinds: Map<string, string>) {
  if (given.photoMediaId && kinds.get(given.photoMediaId) !== 'photo') {
    throw invalid('body.photo_media_id', 'must be a photo you uploaded');
  }
  if (given.videoMediaId && kinds.get(given.videoMediaId) !== 'video') {
    throw invalid('body.video_media_id', 'must be a video you uploaded');
  }
  if (!rule.require_evidence) return;
  switch (rule.checkin_type) {
    case 'photo':
      if (!given.photoMediaId) throw invalid('body.photo_media_id', 'this challenge requires a photo');
      return;
    case 'video':
      if (!given.videoMediaId) throw invalid('body.video_media_id', 'this challenge requires a video');
      return;
    case 'caption':
      if (!given.caption) throw invalid('body.caption', 'this challenge requires a caption');
      return;
    case 'any':
      if (!given.photoMediaId && !given.videoMediaId && !given.caption) {
        throw invalid('body', 'this challenge requires evidence: a photo, a video or a caption');
      }
  }
}
