-- Why this file exists
-- --------------------
-- SPEC §3 promises ten system habits on every install, including embedded ones that never see an
-- operator. The ids are fixed so clients, tests and program templates can refer to them across
-- installs, and so that a backup restored elsewhere still points at the same habits.
-- `on conflict do nothing` keeps this safe if the rows already exist (e.g. a restore before
-- migrating) and never overwrites what an operator has edited since.
-- Icons are emoji so every client can render them without an icon set of its own.

insert into habits (id, name, icon, description, category, is_system, created_by) values
  ('00000000-0000-4000-8000-000000000001', 'Exercise',     '🏋️', 'Move your body for at least 30 minutes.',                 'fitness',      true, null),
  ('00000000-0000-4000-8000-000000000002', 'Drink water',  '💧', 'Drink eight glasses of water over the day.',              'health',       true, null),
  ('00000000-0000-4000-8000-000000000003', 'Reading',      '📚', 'Read at least 20 pages or 20 minutes.',                   'learning',     true, null),
  ('00000000-0000-4000-8000-000000000004', 'Meditation',   '🧘', 'Sit quietly and meditate for 10 minutes.',                'mindfulness',  true, null),
  ('00000000-0000-4000-8000-000000000005', 'Sleep',        '😴', 'Get 7–8 hours of sleep.',                                 'health',       true, null),
  ('00000000-0000-4000-8000-000000000006', 'Journaling',   '📝', 'Write down your thoughts, plans or three good things.',   'mindfulness',  true, null),
  ('00000000-0000-4000-8000-000000000007', 'Walking',      '🚶', 'Take a walk of at least 8,000 steps.',                    'fitness',      true, null),
  ('00000000-0000-4000-8000-000000000008', 'Learning',     '🎓', 'Spend 30 minutes learning a new skill.',                  'learning',     true, null),
  ('00000000-0000-4000-8000-000000000009', 'Early rising', '🌅', 'Get up before 7 a.m.',                                    'productivity', true, null),
  ('00000000-0000-4000-8000-000000000010', 'No sugar',     '🚫', 'Skip added sugar and sweets for the whole day.',          'nutrition',    true, null)
on conflict (id) do nothing;
