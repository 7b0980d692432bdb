-- OmniChat's usage (seed 002), for support and on-call: api_usage holds one row per answer (its
-- model, tokens, the battery it used, whether it was cached: 0/1 or 'true'/'false'), `date` the
-- app's day of it (YYYY-MM-DD) and created_at its time; daily_usage_summary is the app's own
-- roll-up per user and day, which the check holds against api_usage.
--
-- The list is ordered by the instant created_at names (the instant rule of users.sql), newest
-- first, keyset-paged by (at, row): `at` is that instant as a Julian day, -1 for a time that
-- can't be read (listed last, never skipped), `row` the rowid, which tells apart rows of one
-- instant even where their id is NULL (TEXT PRIMARY KEY allows it). The page's bound is one row
-- value, which an index on that instant could seek to (bench/d1_scale.py tries one). D1 has no index on that expression, so each page scans
-- api_usage (what bench/ measures). The summaries filter and group by the day the app
-- wrote (`date`), as its roll-up does; :since is a UTC time, its day the first included.

-- name: usage_recent
-- api_usage newest first, of one user, model and day when given (NULL: any).
-- mode: read
-- params: user_id, model, day, after_at, after_row, limit
SELECT a.created_at, u.email, a.model, a.input_tokens, a.output_tokens, a.battery_used, a.cached,
       a.date, a.conversation_id, a.id, a.user_id, a.at, a.row
FROM (
  SELECT x.*, x.rowid AS row, COALESCE(COALESCE(CASE WHEN x.created_at NOT GLOB '*[^0-9]*' AND length(x.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(x.created_at) >= 12 THEN x.created_at / 1000.0
                                           ELSE x.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN x.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(x.created_at) END), -1) AS at
  FROM api_usage x
) a
LEFT JOIN users u ON u.id = a.user_id
WHERE (:user_id IS NULL OR a.user_id = :user_id)
  AND (:model IS NULL OR a.model = :model)
  AND (:day IS NULL OR date(a.date) = date(:day))
  AND (a.at, a.row) < (COALESCE(:after_at, 1e300), COALESCE(:after_row, 0))
ORDER BY a.at DESC, a.row DESC
LIMIT :limit;

-- name: usage_top_users
-- The users who used the most battery since :since (NULL: ever), with their requests, tokens
-- and cached share.
-- mode: read
-- params: since, limit
SELECT a.user_id, u.email, COUNT(*) AS requests, SUM(a.input_tokens) AS input_tokens,
       SUM(a.output_tokens) AS output_tokens, SUM(a.battery_used) AS battery_used,
       ROUND(100.0 * SUM(CASE WHEN lower(a.cached) IN ('1', 'true') THEN 1 ELSE 0 END) / COUNT(*), 1)
         AS cached_percent
FROM api_usage a
LEFT JOIN users u ON u.id = a.user_id
WHERE :since IS NULL OR date(a.date) >= date(:since)
GROUP BY a.user_id
ORDER BY battery_used DESC, a.user_id
LIMIT :limit;

-- name: usage_by_model_day
-- Battery used per day and model since :since (NULL: ever), newest day first, its biggest model
-- first.
-- mode: read
-- params: since, limit
SELECT date(a.date) AS day, a.model, COUNT(*) AS requests,
       SUM(a.input_tokens) + SUM(a.output_tokens) AS tokens, SUM(a.battery_used) AS battery_used
FROM api_usage a
WHERE :since IS NULL OR date(a.date) >= date(:since)
GROUP BY date(a.date), a.model
ORDER BY day DESC, battery_used DESC, a.model
LIMIT :limit;

-- name: usage_summary_check
-- Each user's day where daily_usage_summary is not what api_usage adds up to (battery used, and
-- messages against answers), or one has the day and the other not (its figures NULL); side by
-- side, and `found`, how many in all. Newest day first. One pass over both tables (a join of
-- their roll-ups has no index to use).
-- mode: read
-- params: since, limit
WITH rows_of AS (
  SELECT a.user_id, date(a.date) AS day, a.battery_used AS used, 1 AS answers,
         NULL AS summarised, NULL AS messages, 0 AS summaries
  FROM api_usage a
  WHERE :since IS NULL OR date(a.date) >= date(:since)
  UNION ALL
  SELECT s.user_id, date(s.date), NULL, 0, s.total_battery_used, s.total_messages, 1
  FROM daily_usage_summary s
  WHERE :since IS NULL OR date(s.date) >= date(:since)
), days AS (
  SELECT r.day, r.user_id,
         CASE WHEN SUM(r.summaries) > 0 THEN SUM(r.summarised) END AS summary_battery,
         CASE WHEN SUM(r.answers) > 0 THEN SUM(r.used) END AS usage_battery,
         CASE WHEN SUM(r.summaries) > 0 THEN SUM(r.messages) END AS summary_messages,
         CASE WHEN SUM(r.answers) > 0 THEN SUM(r.answers) END AS usage_answers
  FROM rows_of r
  GROUP BY r.user_id, r.day
)
SELECT d.day, d.user_id, u.email, d.summary_battery, d.usage_battery,
       COALESCE(d.summary_battery, 0) - COALESCE(d.usage_battery, 0) AS battery_difference,
       d.summary_messages, d.usage_answers, COUNT(*) OVER () AS found
FROM days d
LEFT JOIN users u ON u.id = d.user_id
WHERE d.summary_battery IS NOT d.usage_battery OR d.summary_messages IS NOT d.usage_answers
ORDER BY d.day DESC, d.user_id
LIMIT :limit;
