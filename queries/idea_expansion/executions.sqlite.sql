-- SQLite forms of executions.sql: no timestamptz or uuid casts (times are UTC text).

-- name: list_executions
-- One page of executions, newest first, filtered by status, error_step, user (lower-cased
-- email) and time window; keyset paging after (:after_started, :after_id) at any depth.
-- mode: read
-- params: status, step, email, since, until, after_started, after_id, limit
SELECT x.id, x.user_id, u.email, x.status, x.format_chosen, x.error_step, x.error_message,
       x.tokens_used, x.duration_seconds, x.started_at, x.completed_at
FROM (
  SELECT e.*
  FROM executions e
  WHERE (:status IS NULL OR e.status = :status)
    AND (:step IS NULL OR e.error_step = :step)
    AND (:email IS NULL
         OR e.user_id IN (SELECT m.id FROM users m WHERE adminui_fold(m.email) = adminui_fold(:email)))
    AND (:since IS NULL OR e.started_at >= :since)
    AND (:until IS NULL OR e.started_at < :until)
    AND (:after_started IS NULL OR (e.started_at, e.id) < (:after_started, :after_id))
  ORDER BY e.started_at DESC, e.id DESC
  LIMIT :limit
) x
LEFT JOIN users u ON u.id = x.user_id
ORDER BY x.started_at DESC, x.id DESC;

-- name: failure_summary
-- Failed executions since :since grouped by error_step (the seed's "Failed expansions" counted
-- per step): how many, how many users, the latest completion; partial runs beside them.
-- :until (exclusive) bounds the window above; NULL: up to now.
-- mode: read
-- params: since, until
SELECT e.error_step,
       COUNT(*) FILTER (WHERE e.status = 'failed') AS count,
       COUNT(DISTINCT CASE WHEN e.status = 'failed' THEN u.email END) AS users,
       MAX(CASE WHEN e.status = 'failed' THEN e.completed_at END) AS latest,
       COUNT(*) FILTER (WHERE e.status = 'partial') AS partial
FROM executions e
JOIN users u ON e.user_id = u.id
WHERE e.status IN ('failed', 'partial')
  AND (:since IS NULL OR e.started_at >= :since)
  AND (:until IS NULL OR e.started_at < :until)
GROUP BY e.error_step
ORDER BY count DESC, e.error_step;

-- name: failures_by_bucket
-- Failed and partial runs per :unit ('hour' or 'day', UTC) of their start in [:since, :until),
-- oldest bucket first; only buckets that have some (times are 'YYYY-MM-DD HH:MM:SS' UTC text).
-- mode: read
-- params: unit, since, until
SELECT CASE WHEN :unit = 'hour' THEN substr(e.started_at, 1, 13) || ':00:00'
            ELSE substr(e.started_at, 1, 10) || ' 00:00:00' END AS bucket,
       COUNT(*) FILTER (WHERE e.status = 'failed') AS failed,
       COUNT(*) FILTER (WHERE e.status = 'partial') AS partial
FROM executions e
JOIN users u ON e.user_id = u.id
WHERE e.status IN ('failed', 'partial')
  AND (:since IS NULL OR e.started_at >= :since)
  AND (:until IS NULL OR e.started_at < :until)
GROUP BY 1
ORDER BY 1;

-- name: count_newer_executions
-- How many executions under list_executions' filters sort above (:top_started, :top_id), the
-- newest row on screen (NULL: all that match), counting at most :limit of them.
-- mode: read
-- params: status, step, email, since, until, top_started, top_id, limit
SELECT COUNT(*) AS newer
FROM (
  SELECT 1
  FROM executions e
  WHERE (:status IS NULL OR e.status = :status)
    AND (:step IS NULL OR e.error_step = :step)
    AND (:email IS NULL
         OR e.user_id IN (SELECT m.id FROM users m WHERE adminui_fold(m.email) = adminui_fold(:email)))
    AND (:since IS NULL OR e.started_at >= :since)
    AND (:until IS NULL OR e.started_at < :until)
    AND (:top_started IS NULL OR (e.started_at, e.id) > (:top_started, :top_id))
  LIMIT :limit
) newer;

-- name: stuck_executions
-- Executions still 'running' that started before :before, oldest first.
-- mode: read
-- params: before
SELECT e.id, e.user_id, u.email, e.status, e.format_chosen, e.error_step, e.error_message,
       e.tokens_used, e.duration_seconds, e.started_at, e.completed_at
FROM executions e
LEFT JOIN users u ON u.id = e.user_id
WHERE e.status = 'running' AND e.started_at < :before
ORDER BY e.started_at, e.id;
