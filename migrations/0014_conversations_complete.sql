-- 0014 conversations complete: threads read per conversation, and note edits heard live.
--
-- No column is added: everything the conversation mutations write already has its home in 0004
-- (priority, category, tags, the AI switches, satisfaction, WhatsApp data, the AI analysis, the
-- chat's conversation_key/user_id/lifecycle/expires_at, message metadata for feedback, and
-- app.conversation_threads).
--
-- 1. `Conversation.threads` reads the threads of a page of conversations in one statement by
--    (tenant_id, conversation_id). The only index on those columns so far is the partial unique
--    one on the *active* thread, which neither serves that read nor the ON DELETE CASCADE from a
--    conversation to its inactive threads (each deleted conversation would scan the table).
--
-- 2. Changing or deleting an internal note changes what the conversation shows, so its watchers
--    hear conversation_updated, as they already do for a new note (0008). The trigger function
--    reads its transition table as `new_rows`; for a deletion that is the deleted rows. A note
--    deleted by the cascade of its conversation's deletion finds no conversation in the join and
--    emits nothing.

CREATE INDEX conversation_threads_conversation_idx
  ON app.conversation_threads (tenant_id, conversation_id, created_at DESC, id)
  WHERE conversation_id IS NOT NULL;

CREATE TRIGGER emit_events_update AFTER UPDATE ON app.conversation_notes
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_child_conversation_updated();
CREATE TRIGGER emit_events_delete AFTER DELETE ON app.conversation_notes
  REFERENCING OLD TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_child_conversation_updated();
