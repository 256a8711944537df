-- Why this file exists
-- --------------------
-- SPEC §5.1: even a bug in the API layer must not read or change another user's private rows.
-- Every table gets ENABLE and FORCE row level security (FORCE so that a non-superuser owner is
-- bound too; superusers are never bound, which is why the API never runs as one), and two kinds of
-- policy:
--   * jobs_all: darezone_jobs may do anything (background jobs, admin tasks, the pre-authentication
--     lookups). The migrating owner is a member of darezone_jobs (0001), so the same policy is what
--     lets a non-superuser owner run later migrations and backups.
--   * api_*: what darezone_api may do for the caller in `darezone.user_id` (app.current_user_id()).
-- Privileges are granted per table and, where an update must be narrow, per column: a column the
-- API role has no UPDATE privilege on (users.role, challenges.member_count, ...) cannot be changed
-- through it whatever the policies say, and trying is an error rather than a silent no-op.
-- Cross-table conditions go through the SECURITY DEFINER helpers of 0001, never through direct
-- subqueries on a table whose own policies could lead back here (recursion).
--
-- A detail the API code must respect: INSERT/UPDATE ... RETURNING also checks the new row against
-- the SELECT policy. Hence the "own row" shortcuts in several SELECT policies below (a helper
-- evaluated during the INSERT cannot yet see the row being inserted), and hence inserting a
-- notification for someone else must not use RETURNING (the sender cannot read it).

grant usage on schema public to darezone_api, darezone_jobs;

-- ---------------------------------------------------------------------------------------------
-- Every table: RLS on and forced, darezone_jobs unrestricted.

do $$
declare
  t text;
begin
  foreach t in array array[
    'users', 'user_profiles', 'refresh_tokens', 'login_throttle', 'habits', 'organizations',
    'organization_members', 'programs', 'challenges', 'challenge_habits', 'challenge_members',
    'check_ins', 'media', 'friendships', 'notifications', 'hitch_log', 'job_runs', 'alerts', 'backups']
  loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('create policy jobs_all on public.%I as permissive for all to darezone_jobs using (true) with check (true)', t);
    execute format('revoke all on public.%I from public', t);
    execute format('grant select, insert, update, delete on public.%I to darezone_jobs', t);
  end loop;
end
$$;

-- The migrator's own bookkeeping table is created before the first file runs. "RLS on every
-- table" includes it; only darezone_jobs (and so the owner) may touch it.
do $$
begin
  if to_regclass('public.schema_migrations') is not null then
    alter table public.schema_migrations enable row level security;
    alter table public.schema_migrations force row level security;
    create policy jobs_all on public.schema_migrations as permissive for all to darezone_jobs
      using (true) with check (true);
    grant select on public.schema_migrations to darezone_jobs;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- users: credentials, private to their owner. Sign-up sets darezone.user_id to the new id first.
-- No DELETE, and `role` is neither settable at sign-up (must be 'user') nor updatable.

grant select, insert on users to darezone_api;
grant update (email, password_hash, updated_at) on users to darezone_api;

create policy api_select on users for select to darezone_api
  using (id = app.current_user_id());
create policy api_insert on users for insert to darezone_api
  with check (id = app.current_user_id() and role = 'user');
create policy api_update on users for update to darezone_api
  using (id = app.current_user_id()) with check (id = app.current_user_id());

-- ---------------------------------------------------------------------------------------------
-- user_profiles: readable by any signed-in user (the API returns only the public fields to others
-- and filters blocked users); written only by their owner. An avatar must be the owner's media.

grant select, insert on user_profiles to darezone_api;
grant update (display_name, full_name, bio, timezone, avatar_media_id, current_streak, longest_streak,
              total_check_ins, total_challenges_completed, points, updated_at)
  on user_profiles to darezone_api;

create policy api_select on user_profiles for select to darezone_api
  using (app.current_user_id() is not null);
create policy api_insert on user_profiles for insert to darezone_api
  with check (user_id = app.current_user_id()
              and (avatar_media_id is null or app.owns_media(avatar_media_id)));
create policy api_update on user_profiles for update to darezone_api
  using (user_id = app.current_user_id())
  with check (user_id = app.current_user_id()
              and (avatar_media_id is null or app.owns_media(avatar_media_id)));

-- ---------------------------------------------------------------------------------------------
-- refresh_tokens: own rows only (the lookup by token before authentication runs as darezone_jobs).

grant select, insert, delete on refresh_tokens to darezone_api;
grant update (rotated_at, revoked_at, replaced_by) on refresh_tokens to darezone_api;

create policy api_all on refresh_tokens for all to darezone_api
  using (user_id = app.current_user_id()) with check (user_id = app.current_user_id());

-- login_throttle, job_runs, alerts, backups: darezone_jobs only (no grants, no api policy).

-- ---------------------------------------------------------------------------------------------
-- habits: system ones, my own, and those of challenges I can see. I create only my own.

grant select, insert on habits to darezone_api;

create policy api_select on habits for select to darezone_api
  using (is_system or created_by = app.current_user_id() or app.can_see_habit(id));
create policy api_insert on habits for insert to darezone_api
  with check (not is_system and created_by = app.current_user_id());

-- ---------------------------------------------------------------------------------------------
-- challenges: visible per app.can_see_challenge; created by the caller (inside an organization only
-- by its members, as a program cohort only by its admins); edited by creator/admins.
-- created_by, type, organization_id, program_id and member_count are not updatable by the API.

grant select, insert on challenges to darezone_api;
grant update (name, description, status, start_date, end_date, max_members, checkin_type,
              require_evidence, is_public, invite_code, updated_at, completed_at)
  on challenges to darezone_api;

create policy api_select on challenges for select to darezone_api
  using (created_by = app.current_user_id() or app.can_see_challenge(id));
create policy api_insert on challenges for insert to darezone_api
  with check (created_by = app.current_user_id()
              and member_count = 0
              and (organization_id is null or app.is_org_member(organization_id))
              and (program_id is null or (organization_id is not null and app.is_org_admin(organization_id))));
create policy api_update on challenges for update to darezone_api
  using (app.is_challenge_admin(id)) with check (app.is_challenge_admin(id));

-- ---------------------------------------------------------------------------------------------
-- challenge_habits: set up by the challenge's creator (or admins) with habits they can see;
-- members bump total_check_ins when they check in.

grant select, insert on challenge_habits to darezone_api;
grant update (total_check_ins) on challenge_habits to darezone_api;

create policy api_select on challenge_habits for select to darezone_api
  using (app.can_see_challenge(challenge_id));
create policy api_insert on challenge_habits for insert to darezone_api
  with check ((app.is_challenge_creator(challenge_id) or app.is_challenge_admin(challenge_id))
              and app.can_see_habit(habit_id));
create policy api_update on challenge_habits for update to darezone_api
  using (app.is_challenge_member(challenge_id)) with check (app.is_challenge_member(challenge_id));

-- ---------------------------------------------------------------------------------------------
-- challenge_members: visible with the challenge (and my own rows always). I insert only myself,
-- as 'member', or as 'creator' of a challenge I created; admins/creator update anyone's row
-- (kick, promote); I update my own row (leave, counters, hitches) but cannot promote myself —
-- the admin check runs against the state before the statement. No DELETE: leaving and kicking are
-- status changes, so history and check-ins stay.

grant select, insert on challenge_members to darezone_api;
grant update (role, status, joined_at, left_at, current_streak, longest_streak, points, total_check_ins,
              last_check_in_date, hitches_remaining, hitches_date)
  on challenge_members to darezone_api;

create policy api_select on challenge_members for select to darezone_api
  using (user_id = app.current_user_id() or app.can_see_challenge(challenge_id));
create policy api_insert on challenge_members for insert to darezone_api
  with check (user_id = app.current_user_id()
              and (role = 'member' or (role = 'creator' and app.is_challenge_creator(challenge_id))));
create policy api_update on challenge_members for update to darezone_api
  using (user_id = app.current_user_id() or app.is_challenge_admin(challenge_id))
  with check ((user_id = app.current_user_id() and role = 'member') or app.is_challenge_admin(challenge_id));

-- ---------------------------------------------------------------------------------------------
-- check_ins: mine, my challenges' (as an active member), or my organization's (as its admin, for
-- analytics). Inserted only by an active member for themselves, with evidence they uploaded.
-- Immutable for the API.

grant select, insert on check_ins to darezone_api;

create policy api_select on check_ins for select to darezone_api
  using (user_id = app.current_user_id()
         or app.is_challenge_member(challenge_id)
         or app.is_challenge_org_admin(challenge_id));
create policy api_insert on check_ins for insert to darezone_api
  with check (user_id = app.current_user_id()
              and app.is_challenge_member(challenge_id)
              and (photo_media_id is null or app.owns_media(photo_media_id))
              and (video_media_id is null or app.owns_media(video_media_id)));

-- ---------------------------------------------------------------------------------------------
-- media: see app.can_read_media; uploaded and deleted by the owner only.

grant select, insert, delete on media to darezone_api;

create policy api_select on media for select to darezone_api
  using (owner_id = app.current_user_id() or app.can_read_media(id));
create policy api_insert on media for insert to darezone_api
  with check (owner_id = app.current_user_id());
create policy api_delete on media for delete to darezone_api
  using (owner_id = app.current_user_id());

-- ---------------------------------------------------------------------------------------------
-- friendships: both sides see the row. I create requests from me (or a block by me); only the
-- addressee accepts or rejects; a block can be changed or lifted only by whoever set it.

grant select, insert, delete on friendships to darezone_api;
grant update (requester_id, addressee_id, status, blocked_by, responded_at) on friendships to darezone_api;

create policy api_select on friendships for select to darezone_api
  using (app.current_user_id() in (requester_id, addressee_id));
create policy api_insert on friendships for insert to darezone_api
  with check (requester_id = app.current_user_id()
              and (status = 'pending' or (status = 'blocked' and blocked_by = app.current_user_id())));
create policy api_update on friendships for update to darezone_api
  using (app.current_user_id() in (requester_id, addressee_id)
         and (status <> 'blocked' or blocked_by = app.current_user_id()))
  with check (app.current_user_id() in (requester_id, addressee_id)
              and (status not in ('accepted', 'rejected') or addressee_id = app.current_user_id())
              and (status <> 'blocked' or blocked_by = app.current_user_id()));
create policy api_delete on friendships for delete to darezone_api
  using (app.current_user_id() in (requester_id, addressee_id)
         and (status <> 'blocked' or blocked_by = app.current_user_id()));

-- ---------------------------------------------------------------------------------------------
-- notifications: read, marked read and deleted by their recipient; created by anyone for someone
-- they are connected to (app.can_notify). Use no RETURNING when the recipient is someone else.

grant select, insert, delete on notifications to darezone_api;
grant update (read_at) on notifications to darezone_api;

create policy api_select on notifications for select to darezone_api
  using (user_id = app.current_user_id());
create policy api_insert on notifications for insert to darezone_api
  with check (app.can_notify(user_id));
create policy api_update on notifications for update to darezone_api
  using (user_id = app.current_user_id()) with check (user_id = app.current_user_id());
create policy api_delete on notifications for delete to darezone_api
  using (user_id = app.current_user_id());

-- ---------------------------------------------------------------------------------------------
-- hitch_log: sender and target see it; an active member sends as themselves. Immutable.

grant select, insert on hitch_log to darezone_api;

create policy api_select on hitch_log for select to darezone_api
  using (app.current_user_id() in (sender_id, target_id));
create policy api_insert on hitch_log for insert to darezone_api
  with check (sender_id = app.current_user_id() and app.is_challenge_member(challenge_id));

-- ---------------------------------------------------------------------------------------------
-- organizations: members (and the creator) see it; owners/admins edit name, slug and plan.
-- feature_flags are the platform's to set (darezone_jobs / admin tasks).

grant select, insert on organizations to darezone_api;
grant update (name, slug, plan, updated_at) on organizations to darezone_api;

create policy api_select on organizations for select to darezone_api
  using (created_by = app.current_user_id() or app.is_org_member(id));
create policy api_insert on organizations for insert to darezone_api
  with check (created_by = app.current_user_id());
create policy api_update on organizations for update to darezone_api
  using (app.is_org_admin(id)) with check (app.is_org_admin(id));

-- ---------------------------------------------------------------------------------------------
-- organization_members: members see each other; owners/admins add, change and remove members;
-- the creator enrols themselves as the first owner.

grant select, insert, delete on organization_members to darezone_api;
grant update (role) on organization_members to darezone_api;

create policy api_select on organization_members for select to darezone_api
  using (user_id = app.current_user_id() or app.is_org_member(organization_id));
create policy api_insert on organization_members for insert to darezone_api
  with check (app.is_org_admin(organization_id)
              or (user_id = app.current_user_id() and role = 'owner' and app.is_org_creator(organization_id)));
create policy api_update on organization_members for update to darezone_api
  using (app.is_org_admin(organization_id)) with check (app.is_org_admin(organization_id));
create policy api_delete on organization_members for delete to darezone_api
  using (app.is_org_admin(organization_id));

-- ---------------------------------------------------------------------------------------------
-- programs: members see them; owners/admins create and edit (archive = status). The cohort job
-- (darezone_jobs) owns last_cohort_start.

grant select, insert on programs to darezone_api;
grant update (name, description, period, difficulty, habit_ids, checkin_type, start_date, end_date,
              status, updated_at)
  on programs to darezone_api;

create policy api_select on programs for select to darezone_api
  using (app.is_org_member(organization_id));
create policy api_insert on programs for insert to darezone_api
  with check (created_by = app.current_user_id() and app.is_org_admin(organization_id));
create policy api_update on programs for update to darezone_api
  using (app.is_org_admin(organization_id)) with check (app.is_org_admin(organization_id));
