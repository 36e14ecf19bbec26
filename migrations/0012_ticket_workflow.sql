-- 0012 ticket workflow
--
-- Who opened a ticket. Seed 003's firstResponseTime is the time to the first response, and a
-- response is something a member other than the one who opened the ticket does (the opener
-- filing a ticket for a customer, then moving it along, is not the business answering). So the
-- opener is recorded; tickets opened before this migration (imports, the seed) have none, and
-- then any member's first action counts. Composite with tenant_id like every reference; a removed
-- membership leaves the ticket, without an opener.

ALTER TABLE app.tickets ADD COLUMN opened_by uuid;
ALTER TABLE app.tickets ADD CONSTRAINT tickets_opened_by_fkey FOREIGN KEY (tenant_id, opened_by)
  REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (opened_by);
CREATE INDEX tickets_opened_by_idx ON app.tickets (tenant_id, opened_by) WHERE opened_by IS NOT NULL;

COMMENT ON COLUMN app.tickets.opened_by IS 'the member who opened it through the API (0012)';
