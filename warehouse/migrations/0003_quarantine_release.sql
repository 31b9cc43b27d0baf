-- Quarantine you can act on: which rule set a file aside, and releasing it for the next run.
-- `quarantine.rule` names the check that set the file aside (`read:decode`,
-- `articles_suite_v2.not_mostly_non_letters`, ...); rows written before this migration keep null.
-- `source_files.released_at` marks a quarantined ledger row that `nutgraf quarantine release`
-- put back in line: discovery and the duplicate check ignore it, so the next run reads the file
-- again and the ledger row that run writes makes it seen once more.
ALTER TABLE quarantine ADD COLUMN rule VARCHAR;
ALTER TABLE source_files ADD COLUMN released_at TIMESTAMPTZ;
