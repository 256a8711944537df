-- Why this file exists
-- --------------------
-- The row-level-security proof (test/db/row-level-security.test.ts) found four ways the API role
-- could do through SQL what the API never offers. Row-level security is the safety net for a
-- service that forgot a check, so each is closed here in the database:
--
-- 1. Joining a challenge needed only its id, not its invite code, so anyone who learned a private
--    challenge's id could join it and read its members' check-ins. Joining (a new member row, or an
--    old 'left' row becoming active again) now requires the transaction to carry the challenge's
--    invite code in `darezone.invite_code` (the join service sets it from the request).
-- 2. A kicked member could set their own row back to 'active'. A policy cannot see the old row, so
--    a trigger guards self-updates: a kicked member stays kicked unless an admin reinstates them.
-- 3. Either side of a friendship could rewrite who the friendship is between (and so forge an
--    accepted friendship with a third person). The pair is now immutable for the API role.
-- 4. Creating an organization let its creator choose its feature flags, which the platform sets.

create function app.invite_matches(challenge uuid) returns boolean
  language plpgsql stable security definer set search_path = public, pg_temp
  as $$
begin
  return exists (select 1 from public.challenges c
                 where c.id = challenge
                   and c.invite_code = upper(btrim(coalesce(current_setting('darezone.invite_code', true), ''))));
end
$$;
alter function app.invite_matches(uuid) owner to darezone_jobs;
revoke execute on function app.invite_matches(uuid) from public;
grant execute on function app.invite_matches(uuid) to darezone_api, darezone_jobs;

drop policy api_insert on challenge_members;
create policy api_insert on challenge_members for insert to darezone_api
  with check (user_id = app.current_user_id()
              and ((role = 'member' and app.invite_matches(challenge_id))
                   or (role = 'creator' and app.is_challenge_creator(challenge_id))));

create function app.guard_member_self_update() returns trigger
  language plpgsql set search_path = public, pg_temp
  as $$
begin
  if current_user = 'darezone_api'
     and old.user_id = app.current_user_id()
     and not app.is_challenge_admin(old.challenge_id) then
    if old.status = 'kicked' and new.status <> 'kicked' then
      raise exception 'a removed member cannot reinstate themselves' using errcode = '42501';
    end if;
    if old.status = 'left' and new.status = 'active' and not app.invite_matches(old.challenge_id) then
      raise exception 'rejoining needs the invite code' using errcode = '42501';
    end if;
  end if;
  return new;
end
$$;
revoke execute on function app.guard_member_self_update() from public;

create trigger challenge_members_self_update_guard
  before update on challenge_members
  for each row execute function app.guard_member_self_update();

revoke update (requester_id, addressee_id) on friendships from darezone_api;

drop policy api_insert on organizations;
create policy api_insert on organizations for insert to darezone_api
  with check (created_by = app.current_user_id() and feature_flags = '{}'::jsonb);
