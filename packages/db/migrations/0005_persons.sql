-- 0005_persons: people behind distinct ids.
--
-- * persons: one row per person of a project: the latest person properties ($set, latest event
--   time wins; $set_once, first value kept), whether a known user id was ever linked to it
--   (is_identified), and the times of its first and last event.
-- * person_distinct_ids: every distinct id linked to a person. A distinct id without a row here is
--   a person of its own (queries count it as one).
-- Neither table has a foreign key to projects: deleting a project's data runs in small batches
-- (see the deletion code) instead of one cascade that would hold locks for a long time.
-- Compatible with the previous release: new tables only.

CREATE TABLE persons (
  project_id     uuid NOT NULL,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  properties     jsonb NOT NULL DEFAULT '{}'::jsonb,
  is_identified  boolean NOT NULL DEFAULT false,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  PRIMARY KEY (project_id, id)
);

CREATE TABLE person_distinct_ids (
  project_id   uuid NOT NULL,
  distinct_id  text NOT NULL,
  person_id    uuid NOT NULL,
  PRIMARY KEY (project_id, distinct_id)
);
CREATE INDEX person_distinct_ids_person_idx ON person_distinct_ids (project_id, person_id);
