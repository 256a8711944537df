-- Why this file exists
-- --------------------
-- The rules of SPEC §3 that a single row (or a unique key) can carry live here as constraints, so
-- they hold whatever code path writes: a job, an admin task, a future endpoint, or a race between
-- two API instances. "One check-in per challenge, habit, user and local day" is the unique key
-- check_ins_once_per_day, not a SELECT-then-INSERT; "a challenge cannot take more members than
-- max_members" is the check challenges_capacity on a counter kept by a trigger under a row lock.
-- Constraints carry explicit names because services map them to error codes (e.g. 409s).
-- Every index serves a query the API or a job runs often; each sits with its table.
-- Deleting a user removes what is theirs alone (profile, tokens, media, notifications, check-ins);
-- things others depend on (challenges, organizations, programs they created) block the delete.

-- ---------------------------------------------------------------------------------------------
-- Accounts

create table users (
  id            uuid primary key default gen_random_uuid(),
  email         text not null constraint users_email_format
                  check (char_length(email) between 3 and 254 and position('@' in email) > 1),
  password_hash text not null constraint users_password_hash_present check (password_hash <> ''),
  role          text not null default 'user' constraint users_role_check check (role in ('user', 'admin')),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
-- Email is unique case-insensitively; login looks it up with lower(email) = lower($1).
create unique index users_email_key on users (lower(email));

create table media (
  id           uuid primary key default gen_random_uuid(),
  owner_id     uuid not null references users (id) on delete cascade,
  kind         text not null constraint media_kind_check check (kind in ('photo', 'video', 'avatar')),
  -- Only images and videos are ever stored, and never SVG (a script carrier).
  content_type text not null constraint media_content_type_check
                 check (content_type ~ '^(image|video)/[a-z0-9.+-]+$' and content_type !~* 'svg'),
  size_bytes   bigint not null constraint media_size_check check (size_bytes >= 0),
  width        integer constraint media_width_check check (width > 0),
  height       integer constraint media_height_check check (height > 0),
  -- A generated relative name: no absolute paths, no "..", nothing a client chose.
  storage_key  text not null constraint media_storage_key_key unique
                 constraint media_storage_key_format
                 check (storage_key ~ '^[A-Za-z0-9][A-Za-z0-9/._-]{0,254}$' and storage_key !~ '\.\.'),
  sha256       text not null constraint media_sha256_format check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz not null default now()
);
create index media_owner_created_idx on media (owner_id, created_at);
create index media_sha256_idx on media (sha256);

create table user_profiles (
  user_id                    uuid primary key references users (id) on delete cascade,
  display_name               text not null constraint user_profiles_display_name_check
                               check (char_length(display_name) between 1 and 50 and btrim(display_name) <> ''),
  full_name                  text constraint user_profiles_full_name_check check (char_length(full_name) <= 100),
  bio                        text constraint user_profiles_bio_check check (char_length(bio) <= 500),
  -- IANA name; validity is checked by the API (the zone list is not immutable data).
  timezone                   text not null default 'UTC'
                               constraint user_profiles_timezone_check check (char_length(timezone) between 1 and 64),
  avatar_media_id            uuid references media (id) on delete set null,
  current_streak             integer not null default 0 check (current_streak >= 0),
  longest_streak             integer not null default 0 check (longest_streak >= 0),
  total_check_ins            integer not null default 0 check (total_check_ins >= 0),
  total_challenges_completed integer not null default 0 check (total_challenges_completed >= 0),
  points                     integer not null default 0 check (points >= 0),
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now()
);
-- Prefix search: lower(display_name) like lower($1) || '%'. (pg_trgm is not available in PGlite.)
create index user_profiles_display_name_idx on user_profiles (lower(display_name) text_pattern_ops);
-- Points leaderboards.
create index user_profiles_points_idx on user_profiles (points desc);
create index user_profiles_avatar_idx on user_profiles (avatar_media_id) where avatar_media_id is not null;

create table refresh_tokens (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null references users (id) on delete cascade,
  -- All tokens descended from one login; reuse of a rotated token revokes the whole family.
  family_id   uuid not null,
  token_hash  text not null constraint refresh_tokens_token_hash_key unique,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  replaced_by uuid references refresh_tokens (id) on delete set null,
  constraint refresh_tokens_expiry_check check (expires_at > created_at)
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id);
create index refresh_tokens_expires_idx on refresh_tokens (expires_at);

-- Login lockout shared by every API instance. Keyed by the normalized email whether or not an
-- account exists, so a lockout does not reveal which emails are registered.
create table login_throttle (
  email_normalized  text primary key
                      constraint login_throttle_normalized_check check (email_normalized = lower(email_normalized)),
  failures          integer not null default 0 constraint login_throttle_failures_check check (failures >= 0),
  window_started_at timestamptz not null default now(),
  locked_until      timestamptz
);
create index login_throttle_window_idx on login_throttle (window_started_at);

-- ---------------------------------------------------------------------------------------------
-- Habits

create table habits (
  id          uuid primary key default gen_random_uuid(),
  name        text not null constraint habits_name_check check (char_length(name) between 1 and 60 and btrim(name) <> ''),
  icon        text constraint habits_icon_check check (char_length(icon) <= 40),
  description text constraint habits_description_check check (char_length(description) <= 300),
  category    text constraint habits_category_check check (char_length(category) <= 40),
  is_system   boolean not null default false,
  created_by  uuid references users (id) on delete cascade,
  created_at  timestamptz not null default now(),
  constraint habits_system_xor_owner check (is_system = (created_by is null))
);
create index habits_created_by_idx on habits (created_by);

-- ---------------------------------------------------------------------------------------------
-- Organizations (B2B)

create table organizations (
  id            uuid primary key default gen_random_uuid(),
  name          text not null constraint organizations_name_check check (char_length(name) between 2 and 100),
  slug          text not null constraint organizations_slug_key unique
                  constraint organizations_slug_format check (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$'),
  plan          text not null default 'starter'
                  constraint organizations_plan_check check (plan in ('starter', 'growth', 'enterprise')),
  feature_flags jsonb not null default '{}'
                  constraint organizations_feature_flags_object check (jsonb_typeof(feature_flags) = 'object'),
  created_by    uuid not null references users (id),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index organizations_created_by_idx on organizations (created_by);

create table organization_members (
  organization_id uuid not null references organizations (id) on delete cascade,
  user_id         uuid not null references users (id) on delete cascade,
  role            text not null default 'member'
                    constraint organization_members_role_check check (role in ('owner', 'admin', 'member')),
  joined_at       timestamptz not null default now(),
  constraint organization_members_pkey primary key (organization_id, user_id)
);
create index organization_members_user_idx on organization_members (user_id);

create table programs (
  id                uuid primary key default gen_random_uuid(),
  organization_id   uuid not null references organizations (id) on delete cascade,
  name              text not null constraint programs_name_check check (char_length(name) between 3 and 100),
  description       text constraint programs_description_check check (char_length(description) <= 1000),
  period            text not null constraint programs_period_check check (period in ('week', 'month', 'quarter')),
  difficulty        text not null default 'medium'
                      constraint programs_difficulty_check check (difficulty in ('easy', 'medium', 'hard')),
  habit_ids         uuid[] not null constraint programs_habit_ids_check
                      check (cardinality(habit_ids) between 1 and 10 and array_position(habit_ids, null) is null),
  checkin_type      text not null
                      constraint programs_checkin_type_check check (checkin_type in ('photo', 'video', 'caption', 'any')),
  start_date        date not null,
  end_date          date,
  status            text not null default 'active'
                      constraint programs_status_check check (status in ('active', 'archived')),
  last_cohort_start date,
  created_by        uuid not null references users (id),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  constraint programs_dates_check check (end_date is null or end_date > start_date)
);
create index programs_organization_idx on programs (organization_id);
-- The cohort job walks active programs.
create index programs_active_idx on programs (start_date) where status = 'active';

-- ---------------------------------------------------------------------------------------------
-- Challenges

create table challenges (
  id               uuid primary key default gen_random_uuid(),
  name             text not null constraint challenges_name_check check (char_length(name) between 3 and 100),
  description      text constraint challenges_description_check check (char_length(description) <= 1000),
  type             text not null constraint challenges_type_check check (type in ('individual', 'group', 'program')),
  status           text not null default 'pending'
                     constraint challenges_status_check
                     check (status in ('pending', 'active', 'completed', 'failed', 'archived')),
  start_date       date not null,
  end_date         date not null,
  max_members      integer not null constraint challenges_max_members_check check (max_members between 1 and 100),
  checkin_type     text not null default 'any'
                     constraint challenges_checkin_type_check check (checkin_type in ('photo', 'video', 'caption', 'any')),
  require_evidence boolean not null default false,
  is_public        boolean not null default false,
  -- Unambiguous alphabet (no 0/O/1/I). Generated here when the API does not supply one.
  invite_code      text not null default app.new_invite_code()
                     constraint challenges_invite_code_key unique
                     constraint challenges_invite_code_format check (invite_code ~ '^[A-HJ-NP-Z2-9]{8}$'),
  created_by       uuid not null references users (id),
  organization_id  uuid references organizations (id) on delete cascade,
  program_id       uuid references programs (id) on delete set null,
  -- Active members; maintained by the trigger on challenge_members, never written by the API.
  member_count     integer not null default 0,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  completed_at     timestamptz,
  constraint challenges_dates_check check (end_date > start_date),
  constraint challenges_duration_check check (end_date <= start_date + 365),
  constraint challenges_individual_check check (type <> 'individual' or max_members = 1),
  constraint challenges_program_check check (program_id is null or type = 'program'),
  constraint challenges_member_count_check check (member_count >= 0),
  -- "Challenge full". Program cohorts enrol the whole organization (up to 500 for growth plans),
  -- so they are exempt.
  constraint challenges_capacity check (type = 'program' or member_count <= max_members)
);
-- Jobs: activate pending challenges whose start arrived; complete active ones that ended.
create index challenges_status_start_idx on challenges (status, start_date);
create index challenges_status_end_idx on challenges (status, end_date);
create index challenges_organization_idx on challenges (organization_id) where organization_id is not null;
create index challenges_program_idx on challenges (program_id) where program_id is not null;
create index challenges_created_by_idx on challenges (created_by);
create index challenges_public_idx on challenges (created_at desc) where is_public;

create table challenge_habits (
  challenge_id    uuid not null references challenges (id) on delete cascade,
  habit_id        uuid not null references habits (id),
  position        smallint not null default 0 constraint challenge_habits_position_check check (position >= 0),
  total_check_ins integer not null default 0 constraint challenge_habits_total_check_ins_check check (total_check_ins >= 0),
  constraint challenge_habits_pkey primary key (challenge_id, habit_id)
);
create index challenge_habits_habit_idx on challenge_habits (habit_id);

create table challenge_members (
  challenge_id       uuid not null references challenges (id) on delete cascade,
  user_id            uuid not null references users (id) on delete cascade,
  role               text not null default 'member'
                       constraint challenge_members_role_check check (role in ('creator', 'admin', 'member')),
  status             text not null default 'active'
                       constraint challenge_members_status_check check (status in ('active', 'left', 'kicked')),
  joined_at          timestamptz not null default now(),
  left_at            timestamptz,
  current_streak     integer not null default 0 check (current_streak >= 0),
  longest_streak     integer not null default 0 check (longest_streak >= 0),
  points             integer not null default 0 check (points >= 0),
  total_check_ins    integer not null default 0 check (total_check_ins >= 0),
  last_check_in_date date,
  hitches_remaining  smallint not null default 2
                       constraint challenge_members_hitches_check check (hitches_remaining >= 0),
  hitches_date       date,
  constraint challenge_members_pkey primary key (challenge_id, user_id)
);
create index challenge_members_user_status_idx on challenge_members (user_id, status);

create table check_ins (
  id             uuid primary key default gen_random_uuid(),
  challenge_id   uuid not null,
  habit_id       uuid not null,
  user_id        uuid not null,
  local_date     date not null,
  caption        text constraint check_ins_caption_check check (char_length(caption) <= 500),
  photo_media_id uuid references media (id) on delete set null,
  video_media_id uuid references media (id) on delete set null,
  points_earned  integer not null default 0 constraint check_ins_points_check check (points_earned >= 0),
  streak_after   integer not null default 0 constraint check_ins_streak_check check (streak_after >= 0),
  created_at     timestamptz not null default now(),
  -- Concurrent duplicates: exactly one insert wins, the rest get 23505 on this name (-> 409).
  constraint check_ins_once_per_day unique (challenge_id, habit_id, user_id, local_date),
  constraint check_ins_habit_fkey foreign key (challenge_id, habit_id)
    references challenge_habits (challenge_id, habit_id) on delete cascade,
  constraint check_ins_member_fkey foreign key (challenge_id, user_id)
    references challenge_members (challenge_id, user_id) on delete cascade
);
create index check_ins_user_date_idx on check_ins (user_id, local_date desc);
create index check_ins_challenge_date_idx on check_ins (challenge_id, local_date);
create index check_ins_photo_idx on check_ins (photo_media_id) where photo_media_id is not null;
create index check_ins_video_idx on check_ins (video_media_id) where video_media_id is not null;

-- ---------------------------------------------------------------------------------------------
-- Social

create table friendships (
  id           uuid primary key default gen_random_uuid(),
  requester_id uuid not null references users (id) on delete cascade,
  addressee_id uuid not null references users (id) on delete cascade,
  status       text not null default 'pending'
                 constraint friendships_status_check check (status in ('pending', 'accepted', 'rejected', 'blocked')),
  blocked_by   uuid references users (id) on delete cascade,
  created_at   timestamptz not null default now(),
  responded_at timestamptz,
  constraint friendships_not_self check (requester_id <> addressee_id),
  constraint friendships_blocked_by_check check (
    (status = 'blocked') = (blocked_by is not null) and
    (blocked_by is null or blocked_by in (requester_id, addressee_id)))
);
-- One row per pair, whichever side asked.
create unique index friendships_pair_key on friendships (least(requester_id, addressee_id), greatest(requester_id, addressee_id));
create index friendships_requester_idx on friendships (requester_id, status);
create index friendships_addressee_idx on friendships (addressee_id, status);

create table notifications (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null references users (id) on delete cascade,
  type       text not null constraint notifications_type_check check (char_length(type) between 1 and 64),
  title      text not null constraint notifications_title_check check (char_length(title) between 1 and 200),
  body       text constraint notifications_body_check check (char_length(body) <= 1000),
  data       jsonb not null default '{}',
  -- Jobs set it so a re-run inserts nothing (insert ... on conflict do nothing). A plain unique
  -- constraint (NULLs distinct) means the same as "unique where dedupe_key is not null" and lets
  -- `on conflict (user_id, dedupe_key)` infer it without repeating a predicate.
  dedupe_key text constraint notifications_dedupe_key_check check (char_length(dedupe_key) <= 200),
  read_at    timestamptz,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '30 days',
  constraint notifications_dedupe_key unique (user_id, dedupe_key)
);
create index notifications_user_created_idx on notifications (user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (user_id) where read_at is null;
create index notifications_expires_idx on notifications (expires_at);

create table hitch_log (
  id           uuid primary key default gen_random_uuid(),
  challenge_id uuid not null,
  habit_id     uuid not null,
  sender_id    uuid not null,
  target_id    uuid not null,
  local_date   date not null,
  created_at   timestamptz not null default now(),
  constraint hitch_log_once_per_day unique (challenge_id, habit_id, sender_id, target_id, local_date),
  constraint hitch_log_not_self check (sender_id <> target_id),
  constraint hitch_log_habit_fkey foreign key (challenge_id, habit_id)
    references challenge_habits (challenge_id, habit_id) on delete cascade,
  constraint hitch_log_sender_fkey foreign key (challenge_id, sender_id)
    references challenge_members (challenge_id, user_id) on delete cascade,
  constraint hitch_log_target_fkey foreign key (challenge_id, target_id)
    references challenge_members (challenge_id, user_id) on delete cascade
);
create index hitch_log_target_idx on hitch_log (target_id, created_at desc);
create index hitch_log_sender_idx on hitch_log (sender_id, created_at desc);

-- ---------------------------------------------------------------------------------------------
-- Operations (jobs role only)

create table job_runs (
  id            uuid primary key default gen_random_uuid(),
  job           text not null constraint job_runs_job_check check (char_length(job) between 1 and 100),
  -- The slot; unique with job, which is what makes one run per slot across all instances.
  scheduled_for timestamptz not null,
  trigger       text not null default 'schedule' constraint job_runs_trigger_check check (trigger in ('schedule', 'manual')),
  instance      text,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  status        text not null default 'running'
                  constraint job_runs_status_check
                  check (status in ('running', 'success', 'failed', 'skipped', 'timed_out')),
  duration_ms   integer constraint job_runs_duration_check check (duration_ms >= 0),
  error         text,
  result        jsonb,
  attempt       smallint not null default 1 constraint job_runs_attempt_check check (attempt >= 1),
  constraint job_runs_slot_key unique (job, scheduled_for)
);
create index job_runs_job_started_idx on job_runs (job, started_at desc);
create index job_runs_started_idx on job_runs (started_at);

create table alerts (
  id               uuid primary key default gen_random_uuid(),
  rule             text not null constraint alerts_rule_check check (char_length(rule) between 1 and 100),
  status           text not null default 'firing' constraint alerts_status_check check (status in ('firing', 'resolved')),
  severity         text not null constraint alerts_severity_check check (severity in ('warning', 'critical')),
  value            double precision,
  threshold        double precision,
  message          text not null,
  fired_at         timestamptz not null default now(),
  last_notified_at timestamptz not null default now(),
  resolved_at      timestamptz,
  details          jsonb not null default '{}',
  constraint alerts_resolved_check check (status <> 'resolved' or resolved_at is not null)
);
-- At most one firing row per rule: `insert ... on conflict (rule) where status = 'firing' do ...`.
create unique index alerts_one_firing_per_rule on alerts (rule) where status = 'firing';
create index alerts_fired_idx on alerts (fired_at desc);
create index alerts_rule_fired_idx on alerts (rule, fired_at desc);

create table backups (
  -- Chosen by the app (sortable, e.g. a UTC timestamp); it becomes part of file names, hence the
  -- conservative character set.
  id                 text primary key constraint backups_id_format check (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  status             text not null default 'running'
                       constraint backups_status_check check (status in ('running', 'completed', 'failed')),
  engine             text not null,
  location           text,
  size_bytes         bigint constraint backups_size_check check (size_bytes >= 0),
  duration_ms        integer constraint backups_duration_check check (duration_ms >= 0),
  manifest           jsonb,
  error              text,
  started_at         timestamptz not null default now(),
  finished_at        timestamptz,
  verified_at        timestamptz,
  verify_status      text constraint backups_verify_status_check check (verify_status in ('passed', 'failed')),
  verify_duration_ms integer constraint backups_verify_duration_check check (verify_duration_ms >= 0),
  verify_error       text
);
create index backups_started_idx on backups (started_at desc);

-- ---------------------------------------------------------------------------------------------
-- challenges.member_count
--
-- A joining member may not update the challenge row (only its admins may), yet the count must move
-- with every join/leave/kick, and "full" must hold under concurrent joins. So a trigger owned by
-- darezone_jobs recounts: it first takes the challenge row's lock (FOR NO KEY UPDATE, which does
-- not conflict with the FOR KEY SHARE lock each member insert's foreign-key check holds, so two
-- joins queue instead of deadlocking), then recounts with a fresh snapshot, so concurrent joins see
-- each other and the second one over the limit fails challenges_capacity. Recounting rather than
-- adding ±1 also keeps the counter right after a data-only restore.

create function app.sync_challenge_member_count() returns trigger
  language plpgsql security definer set search_path = public, pg_temp
  as $$
declare
  target uuid := coalesce(new.challenge_id, old.challenge_id);
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status
     and new.challenge_id = old.challenge_id then
    return null;
  end if;
  perform 1 from public.challenges where id = target for no key update;
  update public.challenges c
     set member_count = (select count(*) from public.challenge_members m
                         where m.challenge_id = target and m.status = 'active')
   where c.id = target;
  if tg_op = 'UPDATE' and new.challenge_id <> old.challenge_id then
    perform 1 from public.challenges where id = old.challenge_id for no key update;
    update public.challenges c
       set member_count = (select count(*) from public.challenge_members m
                           where m.challenge_id = old.challenge_id and m.status = 'active')
     where c.id = old.challenge_id;
  end if;
  return null;
end
$$;

grant create on schema app to darezone_jobs;
alter function app.sync_challenge_member_count() owner to darezone_jobs;
revoke create on schema app from darezone_jobs;
revoke execute on function app.sync_challenge_member_count() from public;

create trigger challenge_members_count
  after insert or delete or update of status, challenge_id on challenge_members
  for each row execute function app.sync_challenge_member_count();
