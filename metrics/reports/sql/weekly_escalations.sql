-- Recorded escalations (case_changes rows with field = escalation) inside
-- [$week_start, $week_end), for the weekly update's text.
select f.account_id, ch.case_id, ch."at" as escalated_at, ch.value as level, f.severity
from case_changes ch join case_facts f using (case_id)
where ch.field = 'escalation' and ch."at" >= $week_start and ch."at" < $week_end
order by f.account_id, ch."at", ch.case_id, ch.source_line
