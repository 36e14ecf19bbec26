-- 0021 an assistant's calls, newest first
--
-- `Assistant.calls` pages an assistant's calls in the API's default order (created_at DESC, id),
-- one LATERAL ... LIMIT per assistant. The index 0003 made for the foreign key holds only
-- (tenant_id, assistant_id), so each page read every call the assistant ever took and sorted
-- them; a busy line takes thousands a month. Like calls_booking_idx and calls_customer_idx, the
-- index now also holds the order, so a page reads only its rows. It still leads with the foreign
-- key's columns, so ON DELETE SET NULL from assistants keeps using it.

DROP INDEX app.calls_assistant_idx;
CREATE INDEX calls_assistant_idx ON app.calls (tenant_id, assistant_id, created_at DESC, id)
  WHERE assistant_id IS NOT NULL;
