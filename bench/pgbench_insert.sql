-- The database's own limit for the booking's write: one INSERT a transaction into a table with
-- the appointments' partial unique index (bench/run.py creates it). Random slots, so inserts
-- do not collide; a rare collision is skipped rather than aborting the client.
\set slot random(1, 4000000000000)
INSERT INTO bench_insert (doctor_id, slot_id, date, status, created_at) VALUES (:client_id, :slot, CURRENT_DATE, 'scheduled', now()) ON CONFLICT DO NOTHING;
