-- Who may read a photo (issue 14): the accounts that uploaded it (the same content uploaded by
-- several accounts is one attachment, so each upload is remembered) and whoever may see a case it
-- is on. `case_attachments` is written with the timeline entry that names the photo, in the same
-- transaction; both are filled here from what is stored already.
CREATE TABLE attachment_uploads (
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    account       TEXT NOT NULL,
    PRIMARY KEY (attachment_id, account)
);

CREATE TABLE case_attachments (
    case_id       BIGINT NOT NULL REFERENCES cases (id),
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (case_id, attachment_id)
);
CREATE INDEX case_attachments_attachment ON case_attachments (attachment_id);

INSERT INTO attachment_uploads (attachment_id, account) SELECT id, created_by FROM attachments;

-- The photos a report names (`photos`) and those an action names (`action.photos`), as ids in
-- text or numbers; anything that names no stored attachment is left out. A body jsonb cannot
-- read (an escaped NUL) names no photo.
INSERT INTO case_attachments (case_id, attachment_id)
SELECT DISTINCT e.case_id, a.id
FROM case_events e
CROSS JOIN LATERAL (
    SELECT CASE WHEN jsonb_typeof(e.body::jsonb -> 'photos') = 'array' THEN e.body::jsonb -> 'photos'
                WHEN jsonb_typeof(e.body::jsonb -> 'action' -> 'photos') = 'array' THEN e.body::jsonb -> 'action' -> 'photos'
                ELSE '[]'::jsonb END AS photos
) b
CROSS JOIN LATERAL jsonb_array_elements_text(b.photos) p(value)
JOIN attachments a ON a.id::text = p.value
WHERE e.body LIKE '%"photos"%' AND e.body NOT LIKE '%\\u0000%'
ON CONFLICT DO NOTHING;
