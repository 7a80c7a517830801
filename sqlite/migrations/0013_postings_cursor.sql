-- Postings are written by the store's indexer, a follower of the stream,
-- after the commit instead of inside it; it keeps the last position it
-- indexed under the cursor "postings". Every event stored before this
-- migration got its postings in its own commit.
INSERT INTO stream_cursors (name, pos) SELECT 'postings', next_pos - 1 FROM stream_pos;
