-- fltr's processing history, for on-call (in the fltr database): processing_jobs newest first,
-- by status, and documents in a failed state, each with its document's dataset and user;
-- keyset-paged by (created_at, id) as the ledger is. Times are UTC timestamps without a zone.

-- name: processing_summary
-- How many processing jobs and documents are in each status, with the oldest and newest of each
-- (a queue that stopped moving shows as an old 'queued' or 'running').
-- mode: read
-- params: none
SELECT 'job' AS kind, j.status, COUNT(*) AS count, MIN(j.created_at) AS oldest,
       MAX(j.created_at) AS newest
FROM processing_jobs j
GROUP BY j.status
UNION ALL
SELECT 'document' AS kind, d.status, COUNT(*) AS count, MIN(d.created_at) AS oldest,
       MAX(d.created_at) AS newest
FROM documents d
GROUP BY d.status
ORDER BY kind DESC, status;

-- name: processing_jobs_page
-- One page of processing jobs, newest first, of one status when given; the next page starts
-- after the last row's (created_at, id).
-- mode: read
-- params: status, after_at, after_id, limit
SELECT j.id, j.created_at, j.updated_at, j.status, d.filename, d.status AS document_status,
       ds.name AS dataset, ds.user_id, j.document_id
FROM processing_jobs j
LEFT JOIN documents d ON d.id = j.document_id
LEFT JOIN datasets ds ON ds.id = d.dataset_id
WHERE (CAST(:status AS text) IS NULL OR j.status = CAST(:status AS text))
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (j.created_at, j.id)
          < (CAST(:after_at AS timestamptz) AT TIME ZONE 'UTC', CAST(:after_id AS uuid)))
ORDER BY j.created_at DESC, j.id DESC
LIMIT :limit;

-- name: processing_failed_documents
-- One page of documents whose status is 'failed', newest first, with their dataset, user, and
-- their jobs (how many, the latest one's status).
-- mode: read
-- params: after_at, after_id, limit
SELECT d.id, d.created_at, d.updated_at, d.filename, ds.name AS dataset, ds.user_id,
       (SELECT COUNT(*) FROM processing_jobs j WHERE j.document_id = d.id) AS jobs,
       (SELECT j.status FROM processing_jobs j WHERE j.document_id = d.id
        ORDER BY j.created_at DESC, j.id DESC LIMIT 1) AS last_job_status
FROM documents d
LEFT JOIN datasets ds ON ds.id = d.dataset_id
WHERE d.status = 'failed'
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (d.created_at, d.id)
          < (CAST(:after_at AS timestamptz) AT TIME ZONE 'UTC', CAST(:after_id AS uuid)))
ORDER BY d.created_at DESC, d.id DESC
LIMIT :limit;
