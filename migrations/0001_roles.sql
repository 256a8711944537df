-- Why this file exists
-- --------------------
-- Row-level security only protects anything if the API's queries run as a role that is neither the
-- table owner, nor a superuser, nor BYPASSRLS. So every request drops (SET LOCAL ROLE) to
-- darezone_api and names its caller in the transaction-local setting `darezone.user_id`; jobs,
-- admin tasks and pre-authentication lookups drop to darezone_jobs instead, which the policies let
-- through explicitly (so what they may do is written down, not implied by ownership).
--
-- Roles are cluster-global while migrations are per database, and test suites migrate many
-- databases of one cluster in parallel: hence "create if missing" plus swallowing the error a
-- concurrent creator causes, instead of a plain CREATE ROLE.
--
-- Policies on one table often need to look at another (is the caller a member of this challenge?).
-- Doing that with plain subqueries makes policies call each other ("infinite recursion detected in
-- policy"). The helpers below are SECURITY DEFINER functions owned by darezone_jobs, whose own
-- policies are all `true`: they read the other table without re-entering the caller's policies,
-- and without needing a superuser or BYPASSRLS owner (production owners are neither).
-- They are plpgsql so that their bodies may name tables that 0002 creates.
-- Anyone changing a helper later must do it as (or SET ROLE to) darezone_jobs, its owner.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'darezone_api') then
    create role darezone_api nologin nosuperuser nocreatedb nocreaterole nobypassrls;
  end if;
exception when duplicate_object or unique_violation then
  null; -- another database of this cluster created it concurrently
end
$$;

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'darezone_jobs') then
    create role darezone_jobs nologin nosuperuser nocreatedb nocreaterole nobypassrls;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

-- A role created by someone else with more power than intended would silently void every policy.
do $$
begin
  if exists (select 1 from pg_roles
             where rolname in ('darezone_api', 'darezone_jobs') and (rolsuper or rolbypassrls)) then
    raise exception 'darezone_api / darezone_jobs must be neither SUPERUSER nor BYPASSRLS';
  end if;
end
$$;

-- The connecting owner must be able to SET ROLE to both. It also inherits darezone_jobs's
-- privileges, which is what lets a non-superuser owner (FORCE ROW LEVEL SECURITY applies to owners)
-- run later migrations, seeds and backups through darezone_jobs's permissive policies.
-- Skipped when already a member, so a pre-provisioned setup needs no ADMIN OPTION on the roles.
do $$
begin
  if not pg_has_role(current_user, 'darezone_api', 'MEMBER') then
    grant darezone_api to current_user;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

do $$
begin
  if not pg_has_role(current_user, 'darezone_jobs', 'MEMBER') then
    grant darezone_jobs to current_user;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

create schema if not exists app;
revoke all on schema app from public;
grant usage on schema app to darezone_api, darezone_jobs;
-- New functions are executable by PUBLIC by default; nothing in `app` should be.
alter default privileges in schema app revoke execute on functions from public;

-- Old clusters (before PostgreSQL 15) let every role create objects in `public`, which would let
-- darezone_api plant functions that shadow ours. A no-op (warning) where it is already so.
revoke create on schema public from public;

-- ---------------------------------------------------------------------------------------------
-- The caller. Empty string (the value after a transaction that set it ends) means "nobody".

create function app.current_user_id() returns uuid
  language sql stable parallel safe
  as $$ select nullif(current_setting('darezone.user_id', true), '')::uuid $$;

-- Invite codes: 8 characters from a 32-symbol alphabet without 0/O/1/I. The randomness comes from
-- gen_random_uuid() (a strong random source, built in on PostgreSQL 13+ and PGlite), not random(),
-- because a private challenge's code is the capability to join it. 5 bytes = 40 bits = 8 symbols.
create function app.new_invite_code() returns text
  language plpgsql volatile
  as $$
declare
  alphabet constant text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  b bytea := uuid_send(gen_random_uuid());
  bits bigint := 0;
  code text := '';
begin
  for i in 0..4 loop
    bits := (bits << 8) | get_byte(b, i);
  end loop;
  for i in 0..7 loop
    code := code || substr(alphabet, ((bits >> (5 * i)) & 31)::int + 1, 1);
  end loop;
  return code;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Membership helpers (SECURITY DEFINER, owned by darezone_jobs, see the top of this file).
-- All return false (or null) when no caller is set.

create function app.is_challenge_member(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.challenge_members m
                 where m.challenge_id = challenge and m.user_id = app.current_user_id()
                   and m.status = 'active');
end
$$;

create function app.is_challenge_admin(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.challenge_members m
                 where m.challenge_id = challenge and m.user_id = app.current_user_id()
                   and m.status = 'active' and m.role in ('creator', 'admin'));
end
$$;

create function app.is_challenge_creator(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.challenges c
                 where c.id = challenge and c.created_by = app.current_user_id());
end
$$;

create function app.is_org_member(org uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.organization_members om
                 where om.organization_id = org and om.user_id = app.current_user_id());
end
$$;

create function app.is_org_admin(org uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.organization_members om
                 where om.organization_id = org and om.user_id = app.current_user_id()
                   and om.role in ('owner', 'admin'));
end
$$;

create function app.is_org_creator(org uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.organizations o
                 where o.id = org and o.created_by = app.current_user_id());
end
$$;

-- Public, created by me, any member row of mine (also after leaving: my own history stays
-- readable), or an organization challenge of an organization I belong to.
create function app.can_see_challenge(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  if me is null then
    return false;
  end if;
  return exists (
    select 1 from public.challenges c
    where c.id = challenge
      and (c.is_public
           or c.created_by = me
           or exists (select 1 from public.challenge_members m
                      where m.challenge_id = c.id and m.user_id = me)
           or (c.organization_id is not null
               and exists (select 1 from public.organization_members om
                           where om.organization_id = c.organization_id and om.user_id = me))));
end
$$;

-- Organization analytics read the check-ins of every challenge of the organization.
create function app.is_challenge_org_admin(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (
    select 1 from public.challenges c
    join public.organization_members om on om.organization_id = c.organization_id
    where c.id = challenge and om.user_id = app.current_user_id() and om.role in ('owner', 'admin'));
end
$$;

-- System habits, my own, or used by a challenge I can see.
create function app.can_see_habit(habit uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  if me is null then
    return false;
  end if;
  return exists (select 1 from public.habits h
                 where h.id = habit and (h.is_system or h.created_by = me))
      or exists (select 1 from public.challenge_habits ch
                 where ch.habit_id = habit and app.can_see_challenge(ch.challenge_id));
end
$$;

create function app.shares_challenge(other uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.challenge_members mine
                 join public.challenge_members theirs on theirs.challenge_id = mine.challenge_id
                 where mine.user_id = app.current_user_id() and mine.status = 'active'
                   and theirs.user_id = other and theirs.status = 'active');
end
$$;

create function app.are_friends(other uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  return exists (select 1 from public.friendships f
                 where f.status = 'accepted'
                   and least(f.requester_id, f.addressee_id) = least(me, other)
                   and greatest(f.requester_id, f.addressee_id) = greatest(me, other));
end
$$;

create function app.is_blocked_between(other uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  return exists (select 1 from public.friendships f
                 where f.status = 'blocked'
                   and least(f.requester_id, f.addressee_id) = least(me, other)
                   and greatest(f.requester_id, f.addressee_id) = greatest(me, other));
end
$$;

-- Who may I create a notification for? Myself; friends; either side of a pending request (the
-- request itself notifies the addressee); anyone I have ever shared a challenge with, in any member
-- status (so "member left" and "you were removed" still reach them after the status change); and
-- fellow organization members.
create function app.can_notify(other uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  if me is null or other is null then
    return false;
  end if;
  return other = me
      or exists (select 1 from public.friendships f
                 where f.status in ('accepted', 'pending')
                   and least(f.requester_id, f.addressee_id) = least(me, other)
                   and greatest(f.requester_id, f.addressee_id) = greatest(me, other))
      or exists (select 1 from public.challenge_members mine
                 join public.challenge_members theirs on theirs.challenge_id = mine.challenge_id
                 where mine.user_id = me and theirs.user_id = other)
      or exists (select 1 from public.organization_members mine
                 join public.organization_members theirs on theirs.organization_id = mine.organization_id
                 where mine.user_id = me and theirs.user_id = other);
end
$$;

-- Joining by code: the joiner cannot see a private challenge yet, so the lookup must bypass RLS.
-- Holding the code is exactly the capability to learn this.
create function app.challenge_id_for_invite(code text) returns uuid
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  if app.current_user_id() is null or code is null then
    return null;
  end if;
  return (select c.id from public.challenges c where c.invite_code = upper(btrim(code)));
end
$$;

-- The facts the join endpoint needs for its 404/409 answers before the caller is a member.
create function app.challenge_for_invite(code text)
  returns table (id uuid, type text, status text, start_date date, end_date date,
                 max_members integer, member_count integer, my_status text)
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  if app.current_user_id() is null or code is null then
    return;
  end if;
  return query
    select c.id, c.type, c.status, c.start_date, c.end_date, c.max_members, c.member_count,
           (select m.status from public.challenge_members m
            where m.challenge_id = c.id and m.user_id = app.current_user_id())
    from public.challenges c
    where c.invite_code = upper(btrim(code));
end
$$;

-- Organization admins add existing users by email, but users' rows are private to their owners.
-- Returns null unless the caller administers the organization.
create function app.user_id_for_org_admin(org uuid, email text) returns uuid
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  if not app.is_org_admin(org) or user_id_for_org_admin.email is null then
    return null;
  end if;
  return (select u.id from public.users u where lower(u.email) = lower(btrim(user_id_for_org_admin.email)));
end
$$;

create function app.owns_media(media uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.media m
                 where m.id = media and m.owner_id = app.current_user_id());
end
$$;

-- Mine; any avatar (profiles are visible to every signed-in user); or evidence of a check-in in a
-- challenge where I am an active member.
create function app.can_read_media(media uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
declare
  me constant uuid := app.current_user_id();
begin
  if me is null then
    return false;
  end if;
  return exists (select 1 from public.media m
                 where m.id = media and (m.owner_id = me or m.kind = 'avatar'))
      or exists (select 1 from public.check_ins c
                 where c.photo_media_id = media and app.is_challenge_member(c.challenge_id))
      or exists (select 1 from public.check_ins c
                 where c.video_media_id = media and app.is_challenge_member(c.challenge_id));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Ownership and privileges. ALTER ... OWNER TO needs the new owner to hold CREATE on the schema
-- when the migrating role is not a superuser; it is granted only for the hand-over.

grant create on schema app to darezone_jobs;

alter function app.is_challenge_member(uuid) owner to darezone_jobs;
alter function app.is_challenge_admin(uuid) owner to darezone_jobs;
alter function app.is_challenge_creator(uuid) owner to darezone_jobs;
alter function app.is_org_member(uuid) owner to darezone_jobs;
alter function app.is_org_admin(uuid) owner to darezone_jobs;
alter function app.is_org_creator(uuid) owner to darezone_jobs;
alter function app.can_see_challenge(uuid) owner to darezone_jobs;
alter function app.is_challenge_org_admin(uuid) owner to darezone_jobs;
alter function app.can_see_habit(uuid) owner to darezone_jobs;
alter function app.shares_challenge(uuid) owner to darezone_jobs;
alter function app.are_friends(uuid) owner to darezone_jobs;
alter function app.is_blocked_between(uuid) owner to darezone_jobs;
alter function app.can_notify(uuid) owner to darezone_jobs;
alter function app.challenge_id_for_invite(text) owner to darezone_jobs;
alter function app.challenge_for_invite(text) owner to darezone_jobs;
alter function app.user_id_for_org_admin(uuid, text) owner to darezone_jobs;
alter function app.owns_media(uuid) owner to darezone_jobs;
alter function app.can_read_media(uuid) owner to darezone_jobs;

revoke create on schema app from darezone_jobs;

revoke execute on all functions in schema app from public;
grant execute on all functions in schema app to darezone_api, darezone_jobs;
