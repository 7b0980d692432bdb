-- SQLite forms of processing.sql: times and ids are bound as the SQLite schema stores them (UTC
-- text; a UUID's text).

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
WHERE (:status IS NULL OR j.status = :status)
  AND (:after_at IS NULL OR (j.created_at, j.id) < (:after_at, :after_id))
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
  AND (:after_at IS NULL OR (d.created_at, d.id) < (:after_at, :after_id))
ORDER BY d.created_at DESC, d.id DESC
LIMIT :limit;
