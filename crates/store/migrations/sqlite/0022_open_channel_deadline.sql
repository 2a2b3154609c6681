-- Issue 15, measured with a million cases: "overdue" with a channel (the hotline's overdue cases)
-- read every open overdue case of any channel from (outcome, next_deadline) to keep the channel's
-- (1,480 rows of full cases for 340 on SQLite: 110 answers/s). With the channel in the index the
-- list reads only its own (472 answers/s); see docs/PERFORMANCE.md.
CREATE INDEX cases_open_channel_deadline ON cases (outcome, channel, next_deadline);
