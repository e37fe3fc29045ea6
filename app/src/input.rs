//! The one rule for text that arrives from outside, whatever carries it: server-function fields
//! (checked at the HTTP edge for every body, `server::router`) and webhook payloads
//! (`domain::webhooks`). Text that breaks it is refused before it reaches the database: PostgreSQL
//! rejects a NUL byte (a 500 rather than a 400) and SQLite would store it.

/// Longest text field, in bytes (host tokens are the longest legitimate ones).
pub const TEXT_LIMIT: usize = 8 * 1024;
/// Longest id, in bytes. Ours and Merge's are UUIDs; the longest the domain takes is a manual
/// connection's account id (200), so the edge never refuses an id the domain would accept.
pub const ID_LIMIT: usize = 200;
/// Longest field name, in bytes.
pub const NAME_LIMIT: usize = 128;

/// True for the names of fields that hold ids: `id` and `*_id`.
pub fn is_id(name: &str) -> bool {
    name == "id" || name.ends_with("_id")
}

/// Why a field was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{field}: control characters are not accepted")]
    ControlCharacter { field: String },
    #[error("{field}: at most {limit} characters are accepted")]
    TooLong { field: String, limit: usize },
}

/// Checks one field: no control characters (text may hold tab and line breaks, ids and names
/// nothing), at most [`ID_LIMIT`] bytes for ids (see [`is_id`]) and [`TEXT_LIMIT`] for other text.
pub fn check(name: &str, value: &str) -> Result<(), InputError> {
    let field = || shown(name);
    if name.len() > NAME_LIMIT {
        return Err(InputError::TooLong {
            field: field(),
            limit: NAME_LIMIT,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(InputError::ControlCharacter { field: field() });
    }
    let id = is_id(name);
    let limit = if id { ID_LIMIT } else { TEXT_LIMIT };
    if value.len() > limit {
        return Err(InputError::TooLong {
            field: field(),
            limit,
        });
    }
    let allowed = |c: char| !id && matches!(c, '\t' | '\n' | '\r');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(InputError::ControlCharacter { field: field() });
    }
    Ok(())
}

/// A field name fit for a message: printable, at most 40 characters.
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_may_hold_line_breaks_ids_hold_no_control_characters() {
        assert_eq!(check("name", "a\tb\r\nc 😀\u{202E}"), Ok(()));
        assert_eq!(
            check("name", "a\u{0}b"),
            Err(InputError::ControlCharacter {
                field: "name".into()
            })
        );
        assert!(check("name", "\u{7F}").is_err());
        assert!(check("name", "\u{9B}").is_err(), "C1 controls too");
        assert!(check("id", "a\nb").is_err());
        assert!(check("org_id", "a\tb").is_err());
        assert!(check("a\u{0}b", "x").is_err(), "names are checked too");
        assert!(check(&"n".repeat(NAME_LIMIT + 1), "x").is_err());
    }

    #[test]
    fn ids_are_short_text_is_longer() {
        assert_eq!(check("id", &"i".repeat(ID_LIMIT)), Ok(()));
        assert_eq!(
            check("account_id", &"i".repeat(ID_LIMIT + 1)),
            Err(InputError::TooLong {
                field: "account_id".into(),
                limit: ID_LIMIT
            })
        );
        assert_eq!(check("token", &"t".repeat(TEXT_LIMIT)), Ok(()));
        assert!(check("token", &"t".repeat(TEXT_LIMIT + 1)).is_err());
        assert!(is_id("id") && is_id("user_id") && !is_id("idea") && !is_id("slug"));
    }
}
