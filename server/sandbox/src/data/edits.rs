//! What the control API changes in an organization's generated data, and the `modified_at` order
//! the employee and employment lists are served in.
//!
//! An edited employee is frozen: the generator no longer changes it at later syncs (it keeps the
//! data of the generation it was first edited at, with the edits on top), so a test that edits
//! someone knows exactly what the next pull returns. Every edit moves the record's `modified_at`
//! (employee and employment alike) to the sandbox clock's now.
//!
//! Employment status of an edited employee, on the sandbox clock's date (UTC) `today`:
//! `INACTIVE` when it has a termination date ≤ today; otherwise, once terminated or rehired through
//! the control API (or hired through it), `PENDING` while its start date is after today and `ACTIVE`
//! from then on. A future termination date is shown at once and turns the status `INACTIVE` on its
//! day without moving `modified_at` (Merge's `modified_at` is its own write time; the client applies
//! a future termination on its day).

use std::collections::{BTreeSet, HashMap, HashSet};

use time::{Date, OffsetDateTime};

use super::{
    employee_index_of_remote_id, hash, rel, wire, Expand, Org, RecordMeta, EMPLOYEE, EMPLOYMENT,
    HIRE_BASE, LEAVER,
};
use crate::state::rfc3339;

/// A position in the employee list order: `(modified_at in ms, index)`.
pub type Pos = (i64, usize);

pub fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// What the control API changed about one employee. `None` fields stay as generated.
#[derive(Debug, Clone)]
pub struct Edit {
    /// The generation the employee's generated data is frozen at.
    pub generation: usize,
    pub created: Option<OffsetDateTime>,
    pub modified: OffsetDateTime,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub work_email: Option<String>,
    pub job_title: Option<String>,
    /// `Some(None)`: not terminated (rehired); `Some(Some(d))`: terminated on `d`.
    pub termination: Option<Option<Date>>,
    pub start_date: Option<Date>,
    pub deleted: Option<bool>,
}

/// A change to one employee, as the control API asks for it.
#[derive(Debug, Clone)]
pub enum Change {
    Fields {
        first_name: Option<String>,
        last_name: Option<String>,
        work_email: Option<String>,
        job_title: Option<String>,
    },
    Terminate(Date),
    Delete,
    Rehire(Date),
}

/// Edits, control-API hires and the `modified_at` order of one organization (per data key).
#[derive(Debug, Default)]
pub struct OrgState {
    edits: HashMap<usize, Edit>,
    hires: usize,
    /// Hard-deleted employees: in no listing, found by no lookup.
    purged: HashSet<usize>,
    order: Option<Order>,
}

#[derive(Debug)]
struct Order {
    stamp: (usize, usize, OffsetDateTime),
    set: BTreeSet<Pos>,
}

impl OrgState {
    /// Rebuilds the order when the organization changed (size, a sync) since it was built:
    /// O(N) once per sync, so every page after that costs O(log N + page).
    pub fn refresh(&mut self, org: &Org) {
        let stamp = org.stamp();
        if self.order.as_ref().is_some_and(|o| o.stamp == stamp) {
            return;
        }
        let indexes = (0..org.employee_count())
            .chain(HIRE_BASE..HIRE_BASE + self.hires)
            .filter(|i| !self.purged.contains(i));
        let mut keys: Vec<Pos> = indexes.map(|i| (self.modified_ms(org, i), i)).collect();
        keys.sort_unstable();
        self.order = Some(Order {
            stamp,
            set: keys.into_iter().collect(),
        });
    }

    fn modified_ms(&self, org: &Org, i: usize) -> i64 {
        millis(match self.edits.get(&i) {
            Some(e) => e.modified,
            None => org.employee_record(i).modified,
        })
    }

    /// Applies one change at `now`; the employee must exist (see [`View::exists`]).
    pub fn apply(&mut self, org: &Org, i: usize, change: Change, now: OffsetDateTime) {
        self.refresh(org);
        let old = self.modified_ms(org, i);
        let e = self.edits.entry(i).or_insert_with(|| Edit {
            generation: org.generation(),
            created: None,
            modified: now,
            first_name: None,
            last_name: None,
            work_email: None,
            job_title: None,
            termination: None,
            start_date: None,
            deleted: None,
        });
        e.modified = now;
        match change {
            Change::Fields {
                first_name,
                last_name,
                work_email,
                job_title,
            } => {
                e.first_name = first_name.or(e.first_name.take());
                e.last_name = last_name.or(e.last_name.take());
                e.work_email = work_email.or(e.work_email.take());
                e.job_title = job_title.or(e.job_title.take());
            }
            Change::Terminate(d) => e.termination = Some(Some(d)),
            Change::Delete => e.deleted = Some(true),
            Change::Rehire(start) => {
                e.termination = Some(None);
                e.start_date = Some(start);
                e.deleted = Some(false);
            }
        }
        if let Some(o) = self.order.as_mut() {
            o.set.remove(&(old, i));
            o.set.insert((millis(now), i));
        }
    }

    /// Removes the employee from the organization without a tombstone (a hard delete).
    pub fn purge(&mut self, org: &Org, i: usize) {
        self.refresh(org);
        let pos = (self.modified_ms(org, i), i);
        if let Some(o) = self.order.as_mut() {
            o.set.remove(&pos);
        }
        self.purged.insert(i);
    }

    /// Adds `count` employees starting on `start`; returns their indexes.
    pub fn hire(
        &mut self,
        org: &Org,
        count: usize,
        start: Date,
        now: OffsetDateTime,
    ) -> Vec<usize> {
        self.refresh(org);
        let first = HIRE_BASE + self.hires;
        self.hires += count;
        for i in first..first + count {
            self.edits.insert(
                i,
                Edit {
                    generation: 0,
                    created: Some(now),
                    modified: now,
                    first_name: None,
                    last_name: None,
                    work_email: None,
                    job_title: None,
                    termination: Some(None),
                    start_date: Some(start),
                    deleted: Some(false),
                },
            );
            if let Some(o) = self.order.as_mut() {
                o.set.insert((millis(now), i));
            }
        }
        (first..first + count).collect()
    }
}

/// One organization with its edits, on the sandbox clock's date.
pub struct View<'a> {
    pub org: &'a Org,
    pub state: &'a OrgState,
    pub today: Date,
}

impl View<'_> {
    /// Employees in `modified_at` order (ties by index). Call [`OrgState::refresh`] first.
    pub fn order(&self) -> &BTreeSet<Pos> {
        static EMPTY: BTreeSet<Pos> = BTreeSet::new();
        self.state.order.as_ref().map_or(&EMPTY, |o| &o.set)
    }

    pub fn employee_count(&self) -> usize {
        self.org.employee_count() + self.state.hires
    }

    pub fn exists(&self, i: usize) -> bool {
        (i < self.org.employee_count() || (HIRE_BASE..HIRE_BASE + self.state.hires).contains(&i))
            && !self.state.purged.contains(&i)
    }

    /// An employee by Merge id or remote id.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.org
            .index_of(EMPLOYEE, key)
            .or_else(|| employee_index_of_remote_id(key))
            .filter(|&i| self.exists(i))
    }

    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.org.index_of(EMPLOYEE, id).filter(|&i| self.exists(i))
    }

    fn base(&self, e: &Edit) -> Org {
        self.org.capped(e.generation)
    }

    pub fn record(&self, i: usize) -> RecordMeta {
        match self.state.edits.get(&i) {
            None => self.org.employee_record(i),
            Some(e) => {
                let generated = self.base(e).employee_record(i);
                RecordMeta {
                    created: e.created.unwrap_or(generated.created),
                    modified: e.modified,
                    deleted: e.deleted.unwrap_or(generated.deleted),
                }
            }
        }
    }

    pub fn employment_status(&self, i: usize) -> &'static str {
        let Some(e) = self.state.edits.get(&i) else {
            return self.org.employment_status(i);
        };
        let base = self.base(e);
        let termination = e
            .termination
            .unwrap_or_else(|| base.termination_of(i, &base.employee_meta(i)));
        if termination.is_some_and(|d| d <= self.today) {
            "INACTIVE"
        } else if e.termination.is_some() || e.start_date.is_some() {
            if e.start_date.unwrap_or_else(|| base.start_of(i)) > self.today {
                "PENDING"
            } else {
                "ACTIVE"
            }
        } else {
            base.employment_status(i)
        }
    }

    /// Active now and not deleted: who a bulk termination or deletion picks from.
    fn is_active(&self, i: usize) -> bool {
        self.employment_status(i) == "ACTIVE" && !self.record(i).deleted
    }

    /// `count` of the currently active employees, in a fixed pseudo-random order (the same
    /// state gives the same choice), sorted by index. Also returns how many were active.
    pub fn pick_active(&self, count: impl FnOnce(usize) -> usize) -> (Vec<usize>, usize) {
        let mut active: Vec<(u64, usize)> = (0..self.org.employee_count())
            .chain(HIRE_BASE..HIRE_BASE + self.state.hires)
            .filter(|&i| self.exists(i) && self.is_active(i))
            .map(|i| (hash(self.org.seed, &[LEAVER, i as u64]), i))
            .collect();
        let total = active.len();
        active.sort_unstable();
        let mut chosen: Vec<usize> = active
            .into_iter()
            .take(count(total))
            .map(|(_, i)| i)
            .collect();
        chosen.sort_unstable();
        (chosen, total)
    }

    pub fn employee_id(&self, i: usize) -> String {
        self.org.id(EMPLOYEE, i)
    }

    /// The employee as the API serves it.
    pub fn employee(&self, i: usize, expand: &Expand) -> wire::Employee {
        let nested = Expand::default();
        let Some(e) = self.state.edits.get(&i) else {
            let mut w = self.org.employee(i, expand);
            self.expand_edited(i, expand, &mut w);
            return w;
        };
        let base = self.base(e);
        let mut w = base.employee(i, expand);
        w.modified_at = Some(rfc3339(e.modified));
        if let Some(c) = e.created {
            w.created_at = Some(rfc3339(c));
        }
        if let Some(f) = &e.first_name {
            w.first_name = Some(f.clone());
        }
        if let Some(l) = &e.last_name {
            w.last_name = Some(l.clone());
        }
        if e.first_name.is_some() || e.last_name.is_some() {
            w.display_full_name = Some(format!(
                "{} {}",
                w.first_name.as_deref().unwrap_or_default(),
                w.last_name.as_deref().unwrap_or_default()
            ));
        }
        if let Some(m) = &e.work_email {
            w.work_email = Some(m.clone());
        }
        if let Some(t) = e.termination {
            w.termination_date = t.map(|d| format!("{d}T00:00:00Z"));
        }
        if let Some(s) = e.start_date {
            w.start_date = Some(format!("{s}T00:00:00Z"));
            // A rehire keeps the original hire date only in HR systems that track it; the
            // sandbox shows the latest start as both.
            w.hire_date = w.start_date.clone();
        }
        if let Some(d) = e.deleted {
            w.remote_was_deleted = Some(d);
        }
        w.employment_status = Some(self.employment_status(i).to_string());
        if expand.has("employments") {
            w.employments = Some(vec![Some(wire::Expandable::Object(Box::new(
                self.employment(i, &nested),
            )))]);
        }
        self.expand_edited(i, expand, &mut w);
        w
    }

    /// An expanded manager shows the manager's edits too.
    fn expand_edited(&self, i: usize, expand: &Expand, w: &mut wire::Employee) {
        if !expand.has("manager") {
            return;
        }
        if let Some(m) = self.org.manager_of(i) {
            if self.state.edits.contains_key(&m) {
                w.manager = rel(true, String::new(), || self.employee(m, &Expand::default()));
            }
        }
    }

    pub fn employment(&self, i: usize, expand: &Expand) -> wire::Employment {
        let Some(e) = self.state.edits.get(&i) else {
            let mut w = self.org.employment(i, expand);
            if expand.has("employee") {
                w.employee = rel(true, String::new(), || self.employee(i, &Expand::default()));
            }
            return w;
        };
        let base = self.base(e);
        let mut w = base.employment(i, &Expand::default());
        w.modified_at = Some(rfc3339(e.modified));
        if let Some(c) = e.created {
            w.created_at = Some(rfc3339(c));
        }
        if let Some(t) = &e.job_title {
            w.job_title = Some(t.clone());
        }
        if let Some(s) = e.start_date {
            w.effective_date = Some(format!("{s}T00:00:00Z"));
        }
        if let Some(d) = e.deleted {
            w.remote_was_deleted = Some(d);
        }
        w.employee = rel(expand.has("employee"), self.org.id(EMPLOYEE, i), || {
            self.employee(i, &Expand::default())
        });
        debug_assert_eq!(w.id, Some(self.org.id(EMPLOYMENT, i)));
        w
    }
}
