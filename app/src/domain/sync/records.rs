//! What Merge's records become in the directory. Dates are kept as `YYYY-MM-DD` (Merge sends
//! RFC 3339 date-times); a record without an HR system id is keyed by Merge's id.

use crate::{
    provider::{Employee, Employment, Group, Location, Team},
    storage::{EmployeeData, EmploymentData, UnitData},
};

/// `2026-03-01T00:00:00Z` → `2026-03-01`; anything shorter passes through.
pub fn day(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.get(..10).unwrap_or(v).to_string())
}

fn key(remote_id: &Option<String>, merge_id: &str) -> String {
    remote_id
        .as_deref()
        .filter(|r| !r.is_empty())
        .unwrap_or(merge_id)
        .to_string()
}

pub fn employee(e: &Employee) -> EmployeeData {
    EmployeeData {
        remote_id: key(&e.remote_id, &e.id),
        merge_id: e.id.clone(),
        first_name: e.preferred_name.clone().or_else(|| e.first_name.clone()),
        last_name: e.last_name.clone(),
        display_name: e.display_full_name.clone(),
        work_email: e.work_email.clone(),
        employment_status: e.employment_status.as_ref().map(|s| s.as_str().to_string()),
        start_date: day(e.start_date.as_deref()),
        termination_date: day(e.termination_date.as_deref()),
        manager_merge_id: e.manager_id.clone(),
        team_merge_id: e.team_id.clone(),
        location_merge_id: e.work_location_id.clone(),
        remote_was_deleted: e.remote_was_deleted,
        remote_modified_at: e.modified_at.clone(),
    }
}

pub fn employment(e: &Employment) -> EmploymentData {
    EmploymentData {
        remote_id: key(&e.remote_id, &e.id),
        merge_id: e.id.clone(),
        employee_merge_id: e.employee_id.clone(),
        job_title: e.job_title.clone(),
        employment_type: e.employment_type.clone(),
        effective_date: day(e.effective_date.as_deref()),
        remote_was_deleted: e.remote_was_deleted,
    }
}

pub fn team(t: &Team) -> UnitData {
    UnitData {
        remote_id: key(&t.remote_id, &t.id),
        merge_id: t.id.clone(),
        name: t.name.clone(),
        parent_merge_id: t.parent_team_id.clone(),
        detail: None,
        remote_was_deleted: t.remote_was_deleted,
    }
}

pub fn location(l: &Location) -> UnitData {
    UnitData {
        remote_id: key(&l.remote_id, &l.id),
        merge_id: l.id.clone(),
        name: l.name.clone(),
        parent_merge_id: None,
        detail: Some(
            serde_json::json!({ "city": l.city, "country": l.country, "location_type": l.location_type })
                .to_string(),
        ),
        remote_was_deleted: l.remote_was_deleted,
    }
}

pub fn group(g: &Group) -> UnitData {
    UnitData {
        remote_id: key(&g.remote_id, &g.id),
        merge_id: g.id.clone(),
        name: g.name.clone(),
        parent_merge_id: g.parent_group_id.clone(),
        detail: Some(serde_json::json!({ "group_type": g.group_type }).to_string()),
        remote_was_deleted: g.remote_was_deleted,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_keep_the_day_and_missing_ids_fall_back_to_merge_ids() {
        assert_eq!(
            super::day(Some("2026-03-01T00:00:00Z")).as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(
            super::day(Some("2026-03-01")).as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(super::day(Some("  ")), None);
        assert_eq!(super::key(&None, "m-1"), "m-1");
        assert_eq!(super::key(&Some(String::new()), "m-1"), "m-1");
        assert_eq!(super::key(&Some("r-1".into()), "m-1"), "r-1");
    }
}
