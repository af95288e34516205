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
  -- Per property key, the event time of the last $set or $unset applied (see below).
  property_times jsonb NOT NULL DEFAULT '{}'::jsonb,
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

-- Person maintenance: a statement-level trigger on `events`, like the rollups (0002). It reads
-- the transition table of the INSERT (or COPY) and runs in the writer's transaction, so rows
-- skipped as duplicates never count, a rolled-back batch leaves no trace, and every writer (the
-- worker, `eap dlq replay`, manual INSERTs and backfills) keeps persons exact. Bot events
-- (is_bot) never touch persons.
--
-- Person operations travel in event properties:
-- * $set (object): each key is set unless the person holds a value (or an $unset) of that key
--   from a later event time: property_times keeps, per key, the event time of the last $set or
--   $unset applied, so a late-arriving older $set never overwrites a newer value.
-- * $set_once (object): keys the person does not have (and did not $unset later) are set.
-- * $unset (array of strings): the keys are removed, unless set by a later event.
-- * $anon_distinct_id (string, on $identify or any event): the anonymous id is linked to the
--   person of the event's distinct_id, and that person is identified. An $identify event marks
--   its distinct_id's person identified even without an anonymous id.
-- * $create_alias with alias (string): the alias is linked to the person of the distinct_id.
-- Within one event: links, then $set_once, $set, $unset. Within a batch: event time, then
-- event_id. A person is created by a person operation only; a distinct id without a person is
-- a person of its own for queries.
--
-- Linking an id B to the person of a user id A:
-- * neither has a person: one is created holding both;
-- * only A has one: B joins it; only B has one, not identified: A joins it;
-- * both have the same person: nothing to do;
-- * B's person is another one, not identified: it is merged into A's (distinct ids moved, A's
--   properties win, first_seen the earlier, last_seen the later, B's person row deleted);
-- * B's person is identified (another known user, such as a shared device): the link is
--   skipped, and two identified persons are never merged. A gets a person of its own if needed.
-- A distinct id linked to a person for the first time brings the times of its earlier stored
-- events into the person's first_seen/last_seen.
--
-- Every batch: first_seen/last_seen of the persons of the batch's distinct ids, in one grouped
-- statement; a batch without person operations costs nothing else.
--
-- Concurrency: every lock is taken in one fixed order, so concurrent writers never deadlock.
-- * A batch without person operations updates its persons in key order (an upsert sorted by
--   (project_id, id), as the rollups do), inside a subtransaction: a person that a concurrent
--   merge deleted meanwhile shows up as an inserted row, the subtransaction rolls back
--   (releasing its locks) and the statement runs again with the new mapping, so no time is lost.
-- * A batch with person operations takes an exclusive transaction advisory lock per project
--   (sorted by project), so person operations of one project apply one batch at a time and the
--   distinct id -> person mapping cannot change under them; then it locks, in one locking read
--   sorted by key, every person its ids belong to, and applies its operations.

-- The person of a distinct id, or NULL.
CREATE FUNCTION eap_person_of(p_project uuid, p_distinct_id text) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT person_id FROM person_distinct_ids WHERE project_id = p_project AND distinct_id = p_distinct_id
$$;

-- Links a distinct id without a person to `p_person` and brings the times of its stored
-- (non-bot) events into the person's first_seen/last_seen.
CREATE FUNCTION eap_person_attach(p_project uuid, p_person uuid, p_distinct_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO person_distinct_ids (project_id, distinct_id, person_id) VALUES (p_project, p_distinct_id, p_person);
  UPDATE persons p SET first_seen = least(p.first_seen, s.f), last_seen = greatest(p.last_seen, s.l)
  FROM (SELECT min("timestamp") AS f, max("timestamp") AS l FROM events
        WHERE project_id = p_project AND distinct_id = p_distinct_id AND NOT is_bot) s
  WHERE p.project_id = p_project AND p.id = p_person AND s.f IS NOT NULL;
END;
$$;

-- Creates a person holding one distinct id (which has none); returns its id.
CREATE FUNCTION eap_person_create(p_project uuid, p_distinct_id text, p_at timestamptz) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  person uuid;
BEGIN
  INSERT INTO persons (project_id, first_seen, last_seen) VALUES (p_project, p_at, p_at) RETURNING id INTO person;
  PERFORM eap_person_attach(p_project, person, p_distinct_id);
  RETURN person;
END;
$$;

-- Merges person `p_from` into `p_into`: distinct ids moved, p_into's properties win, the
-- earlier first_seen and the later last_seen kept, p_from deleted.
CREATE FUNCTION eap_person_merge(p_project uuid, p_into uuid, p_from uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  src persons%ROWTYPE;
BEGIN
  DELETE FROM persons WHERE project_id = p_project AND id = p_from RETURNING * INTO src;
  UPDATE person_distinct_ids SET person_id = p_into WHERE project_id = p_project AND person_id = p_from;
  UPDATE persons SET properties = src.properties || properties,
                     property_times = src.property_times || property_times,
                     is_identified = is_identified OR src.is_identified,
                     first_seen = least(first_seen, src.first_seen),
                     last_seen = greatest(last_seen, src.last_seen)
  WHERE project_id = p_project AND id = p_into;
END;
$$;

-- Links `p_other` to the person of `p_user` (rules above); marks that person identified when
-- `p_identify`. Returns the person of p_user.
CREATE FUNCTION eap_person_link(p_project uuid, p_user text, p_other text, p_identify boolean, p_at timestamptz) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  pu uuid := eap_person_of(p_project, p_user);
  pa uuid;
  pa_identified boolean;
BEGIN
  IF p_other IS NOT NULL AND p_other <> p_user THEN
    pa := eap_person_of(p_project, p_other);
    IF pa IS NOT NULL THEN
      SELECT is_identified INTO pa_identified FROM persons WHERE project_id = p_project AND id = pa;
    END IF;
    IF pu IS NULL AND pa IS NULL THEN
      pu := eap_person_create(p_project, p_user, p_at);
      PERFORM eap_person_attach(p_project, pu, p_other);
    ELSIF pu IS NULL AND NOT pa_identified THEN
      pu := pa;
      PERFORM eap_person_attach(p_project, pu, p_user);
    ELSIF pa IS NULL THEN
      PERFORM eap_person_attach(p_project, pu, p_other);
    ELSIF pu IS NOT NULL AND pu <> pa AND NOT pa_identified THEN
      PERFORM eap_person_merge(p_project, pu, pa);
    END IF;
    -- Left: the same person already, or the other id belongs to an identified person (skipped).
  END IF;
  IF pu IS NULL AND p_identify THEN
    pu := eap_person_create(p_project, p_user, p_at);
  END IF;
  IF p_identify THEN
    UPDATE persons SET is_identified = true WHERE project_id = p_project AND id = pu AND NOT is_identified;
  END IF;
  RETURN pu;
END;
$$;

-- Applies $set_once, $set and $unset of one event at time `p_at` to a person (already locked).
CREATE FUNCTION eap_person_apply(p_project uuid, p_person uuid, p_set jsonb, p_set_once jsonb, p_unset jsonb, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  props jsonb;
  times jsonb;
  k text;
  v jsonb;
  at_json jsonb := to_jsonb(p_at);
  -- A key may be written by this event unless a later event already set or unset it.
  newer boolean;
BEGIN
  SELECT properties, property_times INTO props, times FROM persons WHERE project_id = p_project AND id = p_person;
  IF jsonb_typeof(p_set_once) = 'object' THEN
    FOR k, v IN SELECT * FROM jsonb_each(p_set_once) LOOP
      newer := times ? k AND (times ->> k)::timestamptz > p_at;
      IF NOT props ? k AND NOT newer THEN
        props := props || jsonb_build_object(k, v);
      END IF;
    END LOOP;
  END IF;
  IF jsonb_typeof(p_set) = 'object' THEN
    FOR k, v IN SELECT * FROM jsonb_each(p_set) LOOP
      IF NOT (times ? k AND (times ->> k)::timestamptz > p_at) THEN
        props := props || jsonb_build_object(k, v);
        times := times || jsonb_build_object(k, at_json);
      END IF;
    END LOOP;
  END IF;
  IF jsonb_typeof(p_unset) = 'array' THEN
    FOR k IN SELECT value FROM jsonb_array_elements_text(p_unset) AS value LOOP
      IF NOT (times ? k AND (times ->> k)::timestamptz > p_at) THEN
        props := props - k;
        times := times || jsonb_build_object(k, at_json);
      END IF;
    END LOOP;
  END IF;
  UPDATE persons SET properties = props, property_times = times WHERE project_id = p_project AND id = p_person;
END;
$$;

CREATE FUNCTION eap_events_persons() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  has_operations boolean;
  vanished_persons bigint;
  proj uuid;
  e record;
  person uuid;
  has_set boolean;
BEGIN
  FOR attempt IN 1..20 LOOP
    BEGIN
      -- One grouped statement: whether the batch carries person operations and, when it does
      -- not, first_seen/last_seen of the persons of its distinct ids, in key order.
      WITH batch AS MATERIALIZED (
        SELECT project_id, distinct_id, min("timestamp") AS f, max("timestamp") AS l,
               bool_or(properties ?| ARRAY['$set', '$set_once', '$unset', '$anon_distinct_id'] OR event IN ('$create_alias', '$identify')) AS ops
        FROM new_events WHERE NOT is_bot GROUP BY 1, 2
      ), flag AS MATERIALIZED (
        SELECT coalesce(bool_or(ops), false) AS ops FROM batch
      ), targets AS MATERIALIZED (
        SELECT d.project_id, d.person_id, min(b.f) AS f, max(b.l) AS l
        FROM batch b JOIN person_distinct_ids d ON d.project_id = b.project_id AND d.distinct_id = b.distinct_id
        WHERE NOT (SELECT ops FROM flag)
        GROUP BY 1, 2
      ), upserted AS (
        -- In key order, like the rollups: two writers lock shared persons in the same order. An
        -- upsert rather than an UPDATE so that a person deleted by a concurrent merge shows up
        -- (as an inserted row) instead of being skipped silently.
        INSERT INTO persons AS p (project_id, id, first_seen, last_seen)
        SELECT project_id, person_id, f, l FROM targets ORDER BY project_id, person_id
        ON CONFLICT (project_id, id) DO UPDATE
          SET first_seen = least(p.first_seen, excluded.first_seen), last_seen = greatest(p.last_seen, excluded.last_seen)
          WHERE excluded.first_seen < p.first_seen OR excluded.last_seen > p.last_seen
        RETURNING p.xmax = 0 AS inserted
      )
      SELECT (SELECT ops FROM flag), (SELECT count(*) FROM upserted WHERE inserted)
      INTO has_operations, vanished_persons;
      IF vanished_persons > 0 THEN
        -- A concurrent merge deleted a person meanwhile: roll back (the row just inserted too)
        -- and run again with the new mapping.
        RAISE EXCEPTION USING ERRCODE = 'EAP01';
      END IF;
      EXIT;
    EXCEPTION WHEN SQLSTATE 'EAP01' THEN
      IF attempt = 20 THEN
        RAISE EXCEPTION 'persons kept changing under this batch' USING ERRCODE = 'serialization_failure';
      END IF;
    END;
  END LOOP;
  IF NOT has_operations THEN
    RETURN NULL;
  END IF;

  -- Person operations (the transition table is visible in this function only, so they are
  -- applied here): project locks, one sorted locking read of every person involved, the
  -- operations in (event time, event_id) order, then first_seen/last_seen.
  FOR proj IN SELECT DISTINCT project_id FROM new_events ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('eap_persons ' || proj::text, 0));
  END LOOP;
  PERFORM 1 FROM persons p
  WHERE (p.project_id, p.id) IN (
    SELECT d.project_id, d.person_id
    FROM person_distinct_ids d
    JOIN (SELECT project_id, distinct_id AS id FROM new_events WHERE NOT is_bot
          UNION SELECT project_id, properties ->> '$anon_distinct_id' FROM new_events WHERE NOT is_bot AND properties ? '$anon_distinct_id'
          UNION SELECT project_id, properties ->> 'alias' FROM new_events WHERE NOT is_bot AND event = '$create_alias') ids
      ON d.project_id = ids.project_id AND d.distinct_id = ids.id)
  ORDER BY p.project_id, p.id
  FOR UPDATE OF p;

  FOR e IN
    SELECT project_id, event, distinct_id, "timestamp" AS at, properties -> '$set' AS set, properties -> '$set_once' AS set_once,
           properties -> '$unset' AS unset,
           CASE WHEN jsonb_typeof(properties -> '$anon_distinct_id') = 'string' THEN nullif(properties ->> '$anon_distinct_id', '') END AS anon,
           CASE WHEN event = '$create_alias' AND jsonb_typeof(properties -> 'alias') = 'string' THEN nullif(properties ->> 'alias', '') END AS alias
    FROM new_events
    WHERE NOT is_bot AND (properties ?| ARRAY['$set', '$set_once', '$unset', '$anon_distinct_id'] OR event IN ('$create_alias', '$identify'))
    ORDER BY "timestamp", event_id
  LOOP
    person := NULL;
    IF e.anon IS NOT NULL OR e.event = '$identify' THEN
      person := eap_person_link(e.project_id, e.distinct_id, e.anon, true, e.at);
    END IF;
    IF e.alias IS NOT NULL THEN
      person := eap_person_link(e.project_id, e.distinct_id, e.alias, false, e.at);
    END IF;
    has_set := (jsonb_typeof(e.set) = 'object' AND e.set <> '{}'::jsonb)
            OR (jsonb_typeof(e.set_once) = 'object' AND e.set_once <> '{}'::jsonb);
    IF has_set OR (jsonb_typeof(e.unset) = 'array' AND e.unset <> '[]'::jsonb) THEN
      person := coalesce(person, eap_person_of(e.project_id, e.distinct_id));
      IF person IS NULL AND has_set THEN
        person := eap_person_create(e.project_id, e.distinct_id, e.at);
      END IF;
      IF person IS NOT NULL THEN
        PERFORM eap_person_apply(e.project_id, person, e.set, e.set_once, e.unset, e.at);
      END IF;
    END IF;
  END LOOP;

  -- Every person of the batch is locked by now (or was created by it).
  UPDATE persons p SET first_seen = least(p.first_seen, t.f), last_seen = greatest(p.last_seen, t.l)
  FROM (SELECT d.project_id, d.person_id, min(n."timestamp") AS f, max(n."timestamp") AS l
        FROM new_events n JOIN person_distinct_ids d ON d.project_id = n.project_id AND d.distinct_id = n.distinct_id
        WHERE NOT n.is_bot
        GROUP BY 1, 2) t
  WHERE p.project_id = t.project_id AND p.id = t.person_id AND (t.f < p.first_seen OR t.l > p.last_seen);
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_persons
  AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION eap_events_persons();
