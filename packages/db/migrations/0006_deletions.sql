-- 0006_deletions: a receipt for every deletion of a person or a project, kept after the data
-- is gone, so an operator can show what was removed and when.
--
-- * One row per deletion, written when it starts (completed_at NULL) and completed with the
--   receipt (rows removed per table, whether the stream pipeline was drained) when it ends. A row
--   left without completed_at is a deletion that stopped half way; running it again finishes it.
-- * What identifies the subject, without keeping personal data: the person's id (a random uuid
--   that means nothing once the person is gone), the number of distinct ids in the receipt, and
--   subject_hashes: SHA-256 of (project id, NUL, distinct id) for each deleted distinct id. The
--   distinct ids themselves (often e-mail addresses or user ids) are never stored. The hashes let
--   a repeated request for the same distinct id be recognised (answered with a zero receipt, not
--   "unknown") and let an operator confirm that a given id was deleted; they are removed with the
--   project when the project is deleted.
-- * No foreign key to projects: a project's own receipt outlives the project.
-- Compatible with the previous release: a new table only.

CREATE TABLE deletions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('person', 'project')),
  person_id       uuid,
  subject_hashes  bytea[] NOT NULL DEFAULT '{}',
  requested_at    timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  receipt         jsonb
);
CREATE INDEX deletions_project_idx ON deletions (project_id, kind);
