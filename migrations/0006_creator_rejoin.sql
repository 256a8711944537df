-- Why this file exists
-- --------------------
-- A challenge's creator may leave it when nobody else is left in it (SPEC §3: not while other
-- members remain), and may come back with the invite code like anyone who left. Rejoining reuses
-- their member row (there is no DELETE on challenge_members), and 0003's update policy lets a member
-- write only role = 'member' on their own row, so the creator would come back without the rights
-- to edit their own challenge. This widens the self-update check by exactly one case: the row may
-- say 'creator' when the caller is the challenge's creator (challenges.created_by, which the API
-- role cannot change). Nobody else can promote themselves.

drop policy api_update on challenge_members;
create policy api_update on challenge_members for update to darezone_api
  using (user_id = app.current_user_id() or app.is_challenge_admin(challenge_id))
  with check ((user_id = app.current_user_id()
               and (role = 'member' or (role = 'creator' and app.is_challenge_creator(challenge_id))))
              or app.is_challenge_admin(challenge_id));
