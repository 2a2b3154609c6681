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
-- text or numbers; anything that names no stored attachment is left out.
INSERT OR IGNORE INTO case_attachments (case_id, attachment_id)
SELECT e.case_id, a.id
FROM case_events e
JOIN json_each(CASE
        WHEN NOT json_valid(e.body) THEN '[]'
        WHEN json_type(e.body, '$.photos') = 'array' THEN json_extract(e.body, '$.photos')
        WHEN json_type(e.body, '$.action.photos') = 'array' THEN json_extract(e.body, '$.action.photos')
        ELSE '[]' END) p
JOIN attachments a ON CAST(a.id AS TEXT) = CAST(p.value AS TEXT)
WHERE e.body LIKE '%"photos"%';
