-- 0018 one active system prompt per type; an FAQ's use is not an edit
--
-- Seed 004 keeps prompt versions in app.system_prompts with an is_active flag, and the assistant
-- reads "the active voice prompt" and "the active SMS prompt". Two active prompts of one type
-- would make that ambiguous, so the database allows at most one per (tenant, prompt_type): a
-- partial unique index. A unique index cannot be deferred, so the API's activation orders its
-- statements (deactivate the others first, then activate) and serialises activations of one
-- tenant with an advisory lock (frontdesk_db::graph::system_prompts); any writer that breaks
-- the rule anyway gets a unique violation of system_prompts_one_active_key (CONFLICT).
--
-- Rows imported before this index may have several active prompts of a type: the most recently
-- changed one stays active (ties: the larger id). The tables force row-level security on their
-- owner too, so the repair lifts FORCE for its own statement, inside this migration's
-- transaction, and puts it back before anything else can run.

ALTER TABLE app.system_prompts NO FORCE ROW LEVEL SECURITY;
UPDATE app.system_prompts p
   SET is_active = false
 WHERE p.is_active
   AND EXISTS (SELECT 1 FROM app.system_prompts q
                WHERE q.tenant_id = p.tenant_id AND q.prompt_type = p.prompt_type AND q.is_active
                  AND (q.updated_at, q.id) > (p.updated_at, p.id));
ALTER TABLE app.system_prompts FORCE ROW LEVEL SECURITY;

CREATE UNIQUE INDEX system_prompts_one_active_key ON app.system_prompts (tenant_id, prompt_type)
  WHERE is_active;

-- faqs.updated_at says when the FAQ was last edited. recordFaqUse increments usage_count on
-- every answer the assistant gives from it; that is not an edit, so an update that changes
-- nothing but usage_count leaves updated_at alone.
DROP TRIGGER set_updated_at ON app.faqs;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.faqs
  FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id, OLD.category, OLD.question, OLD.answer, OLD.keywords, OLD.is_active,
         OLD.display_order, OLD.created_at, OLD.updated_at)
        IS DISTINCT FROM
        (NEW.tenant_id, NEW.id, NEW.category, NEW.question, NEW.answer, NEW.keywords, NEW.is_active,
         NEW.display_order, NEW.created_at, NEW.updated_at))
  EXECUTE FUNCTION app.set_updated_at();
