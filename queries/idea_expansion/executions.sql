-- Execution history for on-call: failed runs, the failure summary, stuck runs, one run whole.

-- name: list_executions
-- One page of executions, newest first, filtered by status, error_step, user (email, any
-- case) and time window; keyset paging after (:after_started, :after_id) at any depth.
-- mode: read
-- params: status, step, email, since, until, after_started, after_id, limit
SELECT x.id, x.user_id, u.email, x.status, x.format_chosen, x.error_step, x.error_message,
       x.tokens_used, x.duration_seconds, x.started_at, x.completed_at
FROM (
  SELECT e.*
  FROM executions e
  WHERE (CAST(:status AS text) IS NULL OR e.status = :status)
    AND (CAST(:step AS text) IS NULL OR e.error_step = :step)
    AND (CAST(:email AS text) IS NULL
         OR e.user_id IN (SELECT m.id FROM users m
                          WHERE lower(m.email) = lower(CAST(:email AS text))))
    AND (CAST(:since AS timestamptz) IS NULL OR e.started_at >= CAST(:since AS timestamptz))
    AND (CAST(:until AS timestamptz) IS NULL OR e.started_at < CAST(:until AS timestamptz))
    AND (CAST(:after_started AS timestamptz) IS NULL
         OR (e.started_at, e.id) < (CAST(:after_started AS timestamptz),
                                    CAST(:after_id AS uuid)))
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
       COUNT(DISTINCT u.email) FILTER (WHERE e.status = 'failed') AS users,
       MAX(e.completed_at) FILTER (WHERE e.status = 'failed') AS latest,
       COUNT(*) FILTER (WHERE e.status = 'partial') AS partial
FROM executions e
JOIN users u ON e.user_id = u.id
WHERE e.status IN ('failed', 'partial')
  AND (CAST(:since AS timestamptz) IS NULL OR e.started_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR e.started_at < CAST(:until AS timestamptz))
GROUP BY e.error_step
ORDER BY count DESC, e.error_step;

-- name: failures_by_bucket
-- Failed and partial runs per :unit ('hour' or 'day', UTC) of their start in [:since, :until),
-- oldest bucket first; only buckets that have some. The same runs failure_summary counts (their
-- user exists), so the chart and the table add up to the same totals.
-- mode: read
-- params: unit, since, until
SELECT date_trunc(CAST(:unit AS text), e.started_at AT TIME ZONE 'UTC') AS bucket,
       COUNT(*) FILTER (WHERE e.status = 'failed') AS failed,
       COUNT(*) FILTER (WHERE e.status = 'partial') AS partial
FROM executions e
JOIN users u ON e.user_id = u.id
WHERE e.status IN ('failed', 'partial')
  AND (CAST(:since AS timestamptz) IS NULL OR e.started_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR e.started_at < CAST(:until AS timestamptz))
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
  WHERE (CAST(:status AS text) IS NULL OR e.status = :status)
    AND (CAST(:step AS text) IS NULL OR e.error_step = :step)
    AND (CAST(:email AS text) IS NULL
         OR e.user_id IN (SELECT m.id FROM users m
                          WHERE lower(m.email) = lower(CAST(:email AS text))))
    AND (CAST(:since AS timestamptz) IS NULL OR e.started_at >= CAST(:since AS timestamptz))
    AND (CAST(:until AS timestamptz) IS NULL OR e.started_at < CAST(:until AS timestamptz))
    AND (CAST(:top_started AS timestamptz) IS NULL
         OR (e.started_at, e.id) > (CAST(:top_started AS timestamptz), CAST(:top_id AS uuid)))
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
WHERE e.status = 'running' AND e.started_at < CAST(:before AS timestamptz)
ORDER BY e.started_at, e.id;

-- name: get_execution
-- One execution, every column, with its user's email and its idea's title.
-- mode: read
-- params: execution_id
SELECT e.id, e.user_id, u.email, e.selected_idea_id, i.title AS idea_title, e.judge_reasoning,
       e.judge_score, e.format_chosen, e.format_reasoning, e.status, e.error_message,
       e.error_step, e.tokens_used, e.duration_seconds, e.started_at, e.completed_at
FROM executions e
LEFT JOIN users u ON u.id = e.user_id
LEFT JOIN ideas i ON i.id = e.selected_idea_id
WHERE e.id = :execution_id;

-- name: execution_outputs
-- The outputs one execution produced.
-- mode: read
-- params: execution_id
SELECT o.id, o.format, o.published, o.publication_url, o.created_at
FROM outputs o
WHERE o.execution_id = :execution_id
ORDER BY o.created_at, o.id;
