-- One row per flow run, rewritten by every batch's transaction with the totals so far.
INSERT OR REPLACE INTO runs (run_id, flow_run_id, started_at, finished_at, status, batches,
                  landing, files_seen, files_new, files_duplicate, files_quarantined, articles,
                  paragraphs_new, occurrences, tags, counts, gate_success, failed_checks,
                  report_path, normal_form, hash_algorithm, shingling, tagger_versions)
VALUES ($run_id, $flow_run_id, $started_at, now(), $status, $batches, $landing, $files_seen,
        $files_new, $files_duplicate, $files_quarantined, $articles, $paragraphs_new,
        $occurrences, $tags, $counts, $gate_success, $failed_checks, $report_path,
        $normal_form, $hash_algorithm, $shingling, $tagger_versions)
