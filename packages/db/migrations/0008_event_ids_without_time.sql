-- 0008_event_ids_without_time: the dedup table stops carrying each event's time.
--
-- event_ids."timestamp" (0003) held the stored time of the copy that was kept. Nothing reads it:
-- deduplication looks up (project_id, event_id), deletion removes ids by the same key, and the
-- dedup window prunes by first_seen. Every event still paid for it: a time parsed by COPY, 8
-- bytes in the row and in the WAL. Writers from this release on leave it NULL (in the writer
-- alone, PostgreSQL spent about 5 % less CPU per event; benchmarks/write-path.md, section 5).
-- Compatible with the previous release: its workers still write the column, which stays; a later
-- release can drop it once no worker writes it.

ALTER TABLE event_ids ALTER COLUMN "timestamp" DROP NOT NULL;
