//! Deterministic HR data: an organization is a seed (its `end_user_origin_id`), a size and the times
//! of its syncs. Every record is computed from its index on demand, so 100,000 employees cost nothing
//! until a page of them is asked for.
//!
//! Over time (one step per sync): a few employees change (`modified_at` moves), some are terminated,
//! some are deleted in the HR system (`remote_was_deleted`), and new hires appear.

use std::collections::HashSet;

use crate::wire::{self, Expandable};
use time::{Date, Duration, OffsetDateTime};

use super::state::rfc3339;

pub mod edits;

/// One HR system (or, to exercise client-side filtering, another category) in the directory.
#[derive(Debug, Clone, Copy)]
pub struct DirectoryEntry {
    pub slug: &'static str,
    pub name: &'static str,
    pub color: &'static str,
    pub categories: &'static [&'static str],
}

impl DirectoryEntry {
    pub fn is_hris(&self) -> bool {
        self.categories.contains(&"hris")
    }
}

const HRIS: &[&str] = &["hris"];

pub const DIRECTORY: &[DirectoryEntry] = &[
    DirectoryEntry {
        slug: "personio",
        name: "Personio",
        color: "#1A1A1A",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "bamboohr",
        name: "BambooHR",
        color: "#73C41D",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "workday",
        name: "Workday",
        color: "#005CB9",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "hibob",
        name: "HiBob",
        color: "#E8467C",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "adp-workforce-now",
        name: "ADP Workforce Now",
        color: "#D0271D",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "factorial",
        name: "Factorial",
        color: "#FF355E",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "deel",
        name: "Deel",
        color: "#15357A",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "gusto",
        name: "Gusto",
        color: "#F45D48",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "sap-successfactors",
        name: "SAP SuccessFactors",
        color: "#0A6ED1",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "ukg-pro",
        name: "UKG Pro",
        color: "#005151",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "paylocity",
        name: "Paylocity",
        color: "#E35205",
        categories: HRIS,
    },
    DirectoryEntry {
        slug: "greenhouse",
        name: "Greenhouse",
        color: "#24A47F",
        categories: &["ats"],
    },
    DirectoryEntry {
        slug: "salesforce",
        name: "Salesforce",
        color: "#00A1E0",
        categories: &["crm"],
    },
];

/// `(model_name, model_id)` of the models the sandbox syncs.
pub const MODELS: &[(&str, &str)] = &[
    ("Employee", "hris.Employee"),
    ("Employment", "hris.Employment"),
    ("Team", "hris.Team"),
    ("Location", "hris.Location"),
    ("Group", "hris.Group"),
];

/// A logo: a coloured square with the initials, as SVG.
pub fn logo_svg(entry: &DirectoryEntry) -> String {
    let initials: String = entry
        .name
        .split([' ', '-'])
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="{name}"><rect width="64" height="64" rx="12" fill="{color}"/><text x="32" y="41" font-family="sans-serif" font-size="24" font-weight="700" fill="#fff" text-anchor="middle">{initials}</text></svg>"##,
        name = entry.name,
        color = entry.color,
    )
}

pub fn integration_wire(entry: &DirectoryEntry, public_url: &str) -> wire::AccountIntegration {
    wire::AccountIntegration {
        name: entry.name.to_string(),
        abbreviated_name: None,
        categories: Some(entry.categories.iter().map(|c| c.to_string()).collect()),
        image: Some(format!("{public_url}/sandbox/logos/{}.svg", entry.slug)),
        square_image: Some(format!("{public_url}/sandbox/logos/{}.svg", entry.slug)),
        color: Some(entry.color.to_string()),
        slug: Some(entry.slug.to_string()),
        api_endpoints_to_documentation_urls: None,
        webhook_setup_guide_url: None,
        category_beta_status: None,
    }
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Chloe", "David", "Elif", "Farah", "Gustav", "Hana", "Ivan", "Julia", "Kofi",
    "Lena", "Mateo", "Nina", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Carmen", "Dmitri", "Emma", "Felix",
];
const LAST_NAMES: &[&str] = &[
    "Andersen", "Baker", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Hansen", "Ito",
    "Jansen", "Kowalski", "López", "Müller", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Novak", "Silva",
    "Moreau", "Berg",
];
const TITLES: &[&str] = &[
    "Software Engineer",
    "Account Executive",
    "Product Manager",
    "Designer",
    "Recruiter",
    "Accountant",
    "Support Specialist",
    "Data Analyst",
    "Marketing Manager",
    "Operations Lead",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Operations",
    "Customer Success",
    "Product",
    "Legal",
    "Research",
    "Design",
    "Security",
];
const CITIES: &[(&str, &str)] = &[
    ("Berlin", "DE"),
    ("London", "GB"),
    ("New York", "US"),
    ("Paris", "FR"),
    ("Amsterdam", "NL"),
    ("Madrid", "ES"),
    ("Stockholm", "SE"),
    ("Toronto", "CA"),
    ("Sydney", "AU"),
    ("Singapore", "SG"),
    ("Tokyo", "JP"),
    ("São Paulo", "BR"),
    ("Munich", "DE"),
    ("Austin", "US"),
    ("Dublin", "IE"),
    ("Warsaw", "PL"),
];
const COST_CENTERS: usize = 3;

/// Ids scramble indexes with an odd multiplier modulo 2^62, undone by its inverse.
const ID_MASK: u64 = 0x3FFF_FFFF_FFFF_FFFF;
const ID_MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const ID_MUL_INV: u64 = {
    // Newton's iteration: each step doubles the correct low bits.
    let mut inv = ID_MUL;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(ID_MUL.wrapping_mul(inv)));
        i += 1;
    }
    inv
};

// Record kinds, mixed into hashes and ids.
const EMPLOYEE: u64 = 1;
const EMPLOYMENT: u64 = 2;
const TEAM: u64 = 3;
const LOCATION: u64 = 4;
const GROUP: u64 = 5;
const EVENT: u64 = 6;
const INITIAL: u64 = 7;
const LEAVER: u64 = 8;
const ID_EPOCH: u64 = 9;

/// Employees added through the control API (`POST /sandbox/accounts/{id}/hires`) have indexes from
/// here on (remote ids `H1`, `H2`, …), apart from the generated ones (`E1000`, `E1001`, …).
pub const HIRE_BASE: usize = 1 << 40;

fn mix(mut z: u64) -> u64 {
    // splitmix64
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix(seed), |h, p| mix(h ^ p))
}

fn pick<T: Copy>(list: &[T], h: u64) -> T {
    list[(h % list.len() as u64) as usize]
}

/// What happened to an employee by the current sync.
#[derive(Debug, Clone, Copy)]
pub struct EmployeeMeta {
    pub created: usize,
    pub last_change: usize,
    /// Sync at which the employee was terminated (`Some(0)`: before the first sync).
    pub terminated: Option<usize>,
    pub deleted: bool,
    /// Counts promotions, so changed employees really have different data.
    pub changes: usize,
}

/// Times and deletion of one record, for the common list filters.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta {
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
    pub deleted: bool,
}

/// Which relations to return as objects (`expand=`).
#[derive(Debug, Clone, Default)]
pub struct Expand(HashSet<String>);

impl Expand {
    pub fn parse(s: Option<&str>) -> Self {
        Expand(
            s.unwrap_or("")
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

fn rel<T>(expand: bool, id: String, object: impl FnOnce() -> T) -> Option<Expandable<T>> {
    Some(if expand {
        Expandable::Object(Box::new(object()))
    } else {
        Expandable::Id(id)
    })
}

/// One organization's generated HR data.
#[derive(Debug, Clone)]
pub struct Org {
    seed: u64,
    /// What the Merge ids are derived from: the seed, mixed with the account's id epoch.
    id_seed: u64,
    base: usize,
    syncs: Vec<OffsetDateTime>,
}

impl Org {
    pub fn new(origin_id: &str, employees: usize, syncs: Vec<OffsetDateTime>) -> Self {
        let seed = origin_id.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
        });
        let syncs = if syncs.is_empty() {
            vec![OffsetDateTime::UNIX_EPOCH]
        } else {
            syncs
        };
        Org {
            seed,
            id_seed: seed,
            base: employees.max(1),
            syncs,
        }
    }

    /// The same organization with the Merge ids of `epoch` (0: the first ids). Remote ids and
    /// content stay; every record's Merge id is another, as after Merge re-issued them.
    pub fn with_id_epoch(mut self, epoch: u32) -> Self {
        if epoch > 0 {
            self.id_seed = hash(self.seed, &[ID_EPOCH, u64::from(epoch)]);
        }
        self
    }

    fn generation(&self) -> usize {
        self.syncs.len() - 1
    }

    fn hires_per_sync(&self) -> usize {
        (self.base / 200).max(1)
    }

    pub fn employee_count(&self) -> usize {
        self.base + self.generation() * self.hires_per_sync()
    }

    pub fn team_count(&self) -> usize {
        (self.base / 8).max(1)
    }

    pub fn location_count(&self) -> usize {
        (self.base / 40).clamp(1, CITIES.len())
    }

    fn department_count(&self) -> usize {
        (self.team_count() / 4).clamp(1, DEPARTMENTS.len())
    }

    pub fn group_count(&self) -> usize {
        self.department_count() + COST_CENTERS
    }

    /// A UUID for record `index` of `kind`, stable for this organization and reversible
    /// (`index_of`): the index is scrambled by an invertible multiply, then the high half hashed.
    pub fn id(&self, kind: u64, index: usize) -> String {
        let lo = ((index as u64 ^ hash(self.id_seed, &[kind, 1])).wrapping_mul(ID_MUL) & ID_MASK)
            | 0x8000_0000_0000_0000;
        uuid::Uuid::from_u64_pair(self.id_high(kind, lo), lo).to_string()
    }

    fn id_high(&self, kind: u64, lo: u64) -> u64 {
        ((hash(self.id_seed, &[kind, 0]) ^ mix(lo)) & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000
    }

    fn index_of(&self, kind: u64, id: &str) -> Option<usize> {
        let (hi, lo) = uuid::Uuid::parse_str(id).ok()?.as_u64_pair();
        if hi != self.id_high(kind, lo) {
            return None;
        }
        Some(
            (((lo & ID_MASK).wrapping_mul(ID_MUL_INV) ^ hash(self.id_seed, &[kind, 1])) & ID_MASK)
                as usize,
        )
    }

    fn at(&self, generation: usize) -> OffsetDateTime {
        self.syncs[generation.min(self.generation())]
    }

    fn date(&self, days_before_first_sync: i64) -> Date {
        (self.syncs[0] - Duration::days(days_before_first_sync)).date()
    }

    pub fn employee_meta(&self, i: usize) -> EmployeeMeta {
        let created = if i < self.base || i >= HIRE_BASE {
            0
        } else {
            (i - self.base) / self.hires_per_sync() + 1
        };
        let mut m = EmployeeMeta {
            created,
            last_change: created,
            terminated: None,
            deleted: false,
            changes: 0,
        };
        // Team leads (the first employees) stay, so the manager chain holds; control-API hires
        // change only through the control API.
        if i < self.team_count() || i >= HIRE_BASE {
            return m;
        }
        if created == 0 && hash(self.seed, &[INITIAL, i as u64]) % 100 < 6 {
            m.terminated = Some(0);
        }
        for g in created + 1..=self.generation() {
            if m.deleted {
                break;
            }
            let r = hash(self.seed, &[EVENT, i as u64, g as u64]) % 1000;
            if r < 3 {
                m.deleted = true;
            } else if r < 10 && m.terminated.is_none() {
                m.terminated = Some(g);
            } else if r < 40 {
                m.changes += 1;
            } else {
                continue;
            }
            m.last_change = g;
        }
        m
    }

    pub fn employee_record(&self, i: usize) -> RecordMeta {
        let m = self.employee_meta(i);
        RecordMeta {
            created: self.at(m.created),
            modified: self.at(m.last_change),
            deleted: m.deleted,
        }
    }

    /// Teams, locations and groups do not change after the initial sync.
    pub fn static_record(&self) -> RecordMeta {
        RecordMeta {
            created: self.syncs[0],
            modified: self.syncs[0],
            deleted: false,
        }
    }

    fn team_of(&self, i: usize) -> usize {
        if i < self.team_count() {
            i
        } else {
            i % self.team_count()
        }
    }

    fn manager_of(&self, i: usize) -> Option<usize> {
        let t = self.team_count();
        match i {
            0 => None,
            i if i < t => Some((i - 1) / 4),
            i => Some(i % t),
        }
    }

    fn name_of(&self, i: usize) -> (&'static str, &'static str) {
        (
            pick(FIRST_NAMES, hash(self.seed, &[EMPLOYEE, i as u64, 1])),
            pick(LAST_NAMES, hash(self.seed, &[EMPLOYEE, i as u64, 2])),
        )
    }

    pub fn employment_status(&self, i: usize) -> &'static str {
        let m = self.employee_meta(i);
        match m.terminated {
            Some(_) => "INACTIVE",
            None if m.created == self.generation() && m.created > 0 => "PENDING",
            None => "ACTIVE",
        }
    }

    fn start_of(&self, i: usize) -> Date {
        self.date(30 + (hash(self.seed, &[EMPLOYEE, i as u64, 3]) % 3000) as i64)
    }

    fn termination_of(&self, i: usize, m: &EmployeeMeta) -> Option<Date> {
        let h = hash(self.seed, &[EMPLOYEE, i as u64, 3]);
        m.terminated.map(|g| {
            if g == 0 {
                self.date((h % 25) as i64 + 1)
            } else {
                self.at(g).date()
            }
        })
    }

    /// This organization as it was at `generation` (a frozen, edited employee's base).
    fn capped(&self, generation: usize) -> Org {
        Org {
            seed: self.seed,
            id_seed: self.id_seed,
            base: self.base,
            syncs: self.syncs[..=generation.min(self.generation())].to_vec(),
        }
    }

    /// What the modified_at order of this organization's generated employees depends on.
    fn stamp(&self) -> (usize, usize, OffsetDateTime) {
        (self.base, self.syncs.len(), self.syncs[0])
    }

    fn domain(&self) -> String {
        format!("org{:x}.example", self.seed & 0xFFFF)
    }

    pub fn employee(&self, i: usize, expand: &Expand) -> wire::Employee {
        let m = self.employee_meta(i);
        let (first, last) = self.name_of(i);
        let h = hash(self.seed, &[EMPLOYEE, i as u64, 3]);
        let start = self.start_of(i);
        let termination = self.termination_of(i, &m);
        let team = self.team_of(i);
        let location = (h % self.location_count() as u64) as usize;
        let groups = [
            team % self.department_count(),
            self.department_count() + i % COST_CENTERS,
        ];
        let nested = Expand::default();
        wire::Employee {
            id: Some(self.id(EMPLOYEE, i)),
            remote_id: Some(employee_remote_id(i)),
            created_at: Some(rfc3339(self.at(m.created))),
            modified_at: Some(rfc3339(self.at(m.last_change))),
            employee_number: Some(if i >= HIRE_BASE {
                employee_remote_id(i)
            } else {
                (1000 + i).to_string()
            }),
            first_name: Some(first.to_string()),
            last_name: Some(last.to_string()),
            preferred_name: (m.changes % 2 == 1).then(|| first.to_string()),
            display_full_name: Some(format!("{first} {last}")),
            username: Some(format!(
                "{}.{}{}",
                first.to_lowercase(),
                last.to_lowercase(),
                tag(i)
            )),
            groups: Some(
                groups
                    .iter()
                    .map(|&g| rel(expand.has("groups"), self.id(GROUP, g), || self.group(g)))
                    .collect(),
            ),
            work_email: Some(format!(
                "{}.{}.{}@{}",
                ascii(first),
                ascii(last),
                tag(i),
                self.domain()
            )),
            personal_email: None,
            mobile_phone_number: Some(format!("+1555{:07}", i % 10_000_000)),
            employments: Some(vec![rel(
                expand.has("employments"),
                self.id(EMPLOYMENT, i),
                || self.employment(i, &nested),
            )]),
            home_location: None,
            work_location: rel(
                expand.has("work_location"),
                self.id(LOCATION, location),
                || self.location(location),
            ),
            manager: self.manager_of(i).and_then(|mgr| {
                rel(expand.has("manager"), self.id(EMPLOYEE, mgr), || {
                    self.employee(mgr, &nested)
                })
            }),
            team: rel(expand.has("team"), self.id(TEAM, team), || {
                self.team(team, &nested)
            }),
            hire_date: Some(format!("{start}T00:00:00Z")),
            start_date: Some(format!("{start}T00:00:00Z")),
            remote_created_at: Some(format!("{start}T00:00:00Z")),
            employment_status: Some(self.employment_status(i).to_string()),
            termination_date: termination.map(|d| format!("{d}T00:00:00Z")),
            remote_was_deleted: Some(m.deleted),
            field_mappings: Some(
                serde_json::json!({"organization_defined_targets": {}, "linked_account_defined_targets": {}}),
            ),
            ..wire::Employee::default()
        }
    }

    pub fn employment(&self, i: usize, expand: &Expand) -> wire::Employment {
        let m = self.employee_meta(i);
        let h = hash(self.seed, &[EMPLOYMENT, i as u64]);
        let title = pick(TITLES, h);
        let seniority = ["", "Senior ", "Staff ", "Principal "][m.changes.min(3)];
        let start = self.start_of(i);
        wire::Employment {
            id: Some(self.id(EMPLOYMENT, i)),
            remote_id: Some(employment_remote_id(i)),
            created_at: Some(rfc3339(self.at(m.created))),
            modified_at: Some(rfc3339(self.at(m.last_change))),
            employee: rel(expand.has("employee"), self.id(EMPLOYEE, i), || {
                self.employee(i, &Expand::default())
            }),
            job_title: Some(format!("{seniority}{title}")),
            pay_rate: Some((40_000 + (h % 120) * 1_000 + m.changes as u64 * 5_000) as f64),
            pay_period: Some("YEAR".to_string()),
            pay_frequency: Some("MONTHLY".to_string()),
            pay_currency: Some(["EUR", "USD", "GBP"][(h % 3) as usize].to_string()),
            flsa_status: Some("EXEMPT".to_string()),
            effective_date: Some(format!("{start}T00:00:00Z")),
            employment_type: Some(
                if h.is_multiple_of(10) {
                    "PART_TIME"
                } else {
                    "FULL_TIME"
                }
                .to_string(),
            ),
            remote_was_deleted: Some(m.deleted),
            ..wire::Employment::default()
        }
    }

    pub fn team(&self, t: usize, expand: &Expand) -> wire::Team {
        let r = self.static_record();
        let dept = DEPARTMENTS[t % self.department_count()];
        let parent = (t > 0).then(|| (t - 1) / 4);
        wire::Team {
            id: Some(self.id(TEAM, t)),
            remote_id: Some(format!("T{t}")),
            created_at: Some(rfc3339(r.created)),
            modified_at: Some(rfc3339(r.modified)),
            name: Some(if t == 0 {
                "Leadership".to_string()
            } else {
                format!("{dept} {t}")
            }),
            parent_team: parent.and_then(|p| {
                rel(expand.has("parent_team"), self.id(TEAM, p), || {
                    self.team(p, &Expand::default())
                })
            }),
            remote_was_deleted: Some(false),
            ..wire::Team::default()
        }
    }

    pub fn location(&self, l: usize) -> wire::Location {
        let r = self.static_record();
        let (city, country) = CITIES[l % CITIES.len()];
        wire::Location {
            id: Some(self.id(LOCATION, l)),
            remote_id: Some(format!("L{l}")),
            created_at: Some(rfc3339(r.created)),
            modified_at: Some(rfc3339(r.modified)),
            name: Some(format!("{city} office")),
            phone_number: Some(format!("+1555{:07}", l)),
            street_1: Some(format!("{} Main Street", 10 + l)),
            city: Some(city.to_string()),
            zip_code: Some(format!("{:05}", 10_000 + l * 7)),
            country: Some(country.to_string()),
            location_type: Some("WORK".to_string()),
            remote_was_deleted: Some(false),
            ..wire::Location::default()
        }
    }

    pub fn group(&self, g: usize) -> wire::Group {
        let r = self.static_record();
        let departments = self.department_count();
        let (name, kind) = if g < departments {
            (DEPARTMENTS[g].to_string(), "DEPARTMENT")
        } else {
            (
                format!("Cost center {}", g - departments + 1),
                "COST_CENTER",
            )
        };
        wire::Group {
            id: Some(self.id(GROUP, g)),
            remote_id: Some(format!("G{g}")),
            created_at: Some(rfc3339(r.created)),
            modified_at: Some(rfc3339(r.modified)),
            parent_group: None,
            name: Some(name),
            group_type: Some(kind.to_string()),
            is_commonly_used_as_team: Some(false),
            remote_was_deleted: Some(false),
            ..wire::Group::default()
        }
    }

    pub fn employee_id(&self, i: usize) -> String {
        self.id(EMPLOYEE, i)
    }

    /// The index of an employee id, for `GET /employees/{id}`.
    pub fn employee_index(&self, id: &str) -> Option<usize> {
        self.index_of(EMPLOYEE, id)
            .filter(|&i| i < self.employee_count())
    }
}

/// `E<1000 + i>` for generated employees, `H<n>` for the n-th control-API hire.
pub fn employee_remote_id(i: usize) -> String {
    if i >= HIRE_BASE {
        format!("H{}", i - HIRE_BASE + 1)
    } else {
        format!("E{}", 1000 + i)
    }
}

fn employment_remote_id(i: usize) -> String {
    if i >= HIRE_BASE {
        format!("JH{}", i - HIRE_BASE + 1)
    } else {
        format!("J{}", 1000 + i)
    }
}

/// The inverse of [`employee_remote_id`] (canonical spellings only: `E01000` is no id).
pub fn employee_index_of_remote_id(remote_id: &str) -> Option<usize> {
    let digits = remote_id.get(1..)?;
    let n: usize = digits.parse().ok()?;
    if n.to_string() != digits {
        return None;
    }
    match remote_id.as_bytes()[0] {
        b'H' if n >= 1 => Some(HIRE_BASE + n - 1),
        b'E' if n >= 1000 && n - 1000 < HIRE_BASE => Some(n - 1000),
        _ => None,
    }
}

/// The number in usernames and e-mails: the index, or `h<n>` for a hire.
fn tag(i: usize) -> String {
    if i >= HIRE_BASE {
        format!("h{}", i - HIRE_BASE + 1)
    } else {
        i.to_string()
    }
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'ã' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ü' => 'u',
            c => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: usize, syncs: usize) -> Org {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        Org::new(
            "acme",
            n,
            (0..syncs).map(|g| t0 + Duration::days(g as i64)).collect(),
        )
    }

    #[test]
    fn ids_are_stable_and_reversible() {
        let o = org(100_000, 1);
        assert_eq!(o.id(EMPLOYEE, 99_999), org(100_000, 1).id(EMPLOYEE, 99_999));
        assert_eq!(o.employee_index(&o.id(EMPLOYEE, 99_999)), Some(99_999));
        assert_eq!(o.employee_index(&o.id(TEAM, 3)), None);
    }

    #[test]
    fn syncs_change_hire_and_delete() {
        let o = org(2_000, 4);
        assert_eq!(o.employee_count(), 2_000 + 3 * 10);
        let metas: Vec<_> = (0..o.employee_count())
            .map(|i| o.employee_meta(i))
            .collect();
        assert!(metas.iter().any(|m| m.deleted));
        assert!(metas.iter().any(|m| m.terminated == Some(0)));
        assert!(metas.iter().any(|m| m.terminated.is_some_and(|g| g > 0)));
        assert!(metas.iter().filter(|m| m.last_change == 3).count() > 10);
    }
}
