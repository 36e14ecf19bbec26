-- 0011 a lead's customer
--
-- A lead is a prospect; the customer it is (a lead from someone the business already serves)
-- or becomes on conversion is recorded here, so `Customer.leads` and `Lead.customer` are a
-- real foreign key instead of a match on phone or e-mail at read time. Composite with
-- tenant_id like every reference; a deleted customer leaves the lead, unlinked. Existing leads
-- are linked to the customer of the tenant with the same phone number or, failing that, the
-- same e-mail address (case-insensitive); where several customers share an e-mail address
-- the oldest is taken.

ALTER TABLE app.leads ADD COLUMN customer_id uuid;
ALTER TABLE app.leads ADD CONSTRAINT leads_customer_fkey FOREIGN KEY (tenant_id, customer_id)
  REFERENCES app.customers (tenant_id, id) ON DELETE SET NULL (customer_id);
CREATE INDEX leads_customer_idx ON app.leads (tenant_id, customer_id) WHERE customer_id IS NOT NULL;

UPDATE app.leads l
   SET customer_id = coalesce(
         (SELECT c.id FROM app.customers c
           WHERE c.tenant_id = l.tenant_id AND c.phone = l.phone),
         (SELECT c.id FROM app.customers c
           WHERE c.tenant_id = l.tenant_id AND lower(c.email) = lower(l.email)
           ORDER BY c.created_at, c.id LIMIT 1))
 WHERE l.phone IS NOT NULL OR l.email IS NOT NULL;
