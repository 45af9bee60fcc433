//! The library's records exactly as the API shows them: members,
//! preferences, books with their copies, loans, holds, and reading lists
//! with their items.

use serde::Serialize;

/// What an account may do: members borrow; staff also run the catalogue and the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Member,
    Staff,
}

/// An account. The password never leaves the server.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Member {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password: String,
}

/// A member's one set of preferences (`/api/v1/me/preferences`), versioned for `If-Match`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Preferences {
    pub notify_by: String,
    pub language: String,
    pub newsletter: bool,
    /// Bumped by every write; the `ETag` is this number, quoted.
    #[serde(skip)]
    pub version: u64,
    /// The version the last `PUT` replaced, if there was one.
    #[serde(skip)]
    pub put_from: Option<u64>,
}

impl Preferences {
    /// The strong entity tag of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            notify_by: "email".into(),
            language: "en".into(),
            newsletter: false,
            version: 1,
            put_from: None,
        }
    }
}

/// Whether a book is in the catalogue; `DELETE` withdraws it (a soft delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BookStatus {
    Available,
    Withdrawn,
}

/// A title in the catalogue, named by the slug its creator chose.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Book {
    pub slug: String,
    pub title: String,
    pub author: String,
    pub status: BookStatus,
    /// Set by staff to show the book on the front page.
    pub featured: bool,
    /// The physical copies: they have no endpoint of their own.
    pub copies: Vec<Copy>,
}

/// Where a physical copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum CopyStatus {
    #[serde(rename = "on_shelf")]
    Shelved,
    #[serde(rename = "on_loan")]
    Lent,
    /// Set aside for a hold, waiting to be collected at the desk.
    #[serde(rename = "on_hold")]
    Held,
}

/// One physical copy of a book.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Copy {
    pub id: u64,
    pub barcode: String,
    pub status: CopyStatus,
}

/// Where a loan is: active until returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LoanStatus {
    Active,
    Returned,
}

impl LoanStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            LoanStatus::Active => "active",
            LoanStatus::Returned => "returned",
        }
    }
}

/// A copy lent to a member.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Loan {
    pub id: u64,
    /// The borrower's member id.
    pub member: u64,
    /// The book's slug.
    pub book: String,
    /// The copy's id.
    pub copy: u64,
    pub status: LoanStatus,
    pub renewals: u32,
    pub due_in_days: u32,
}

/// Where a hold is: ready for pickup, then collected or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HoldStatus {
    Ready,
    Collected,
    Cancelled,
}

impl HoldStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            HoldStatus::Ready => "ready",
            HoldStatus::Collected => "collected",
            HoldStatus::Cancelled => "cancelled",
        }
    }
}

/// A copy set aside for a member, collected at the desk with its pickup `code`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Hold {
    pub id: u64,
    pub member: u64,
    pub book: String,
    pub copy: u64,
    pub status: HoldStatus,
    /// Issued to the member, redeemed by staff at `POST /api/v1/desk/pickups`.
    pub code: String,
}

/// Where a reading list is: a draft takes books; once published it is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ListStatus {
    Draft,
    Published,
}

impl ListStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            ListStatus::Draft => "draft",
            ListStatus::Published => "published",
        }
    }
}

/// A member's reading list: books picked while it is a draft, then published.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReadingList {
    pub id: u64,
    pub member: u64,
    pub name: String,
    pub status: ListStatus,
    /// The books on it: they have no endpoint of their own.
    pub items: Vec<ListItem>,
}

/// One book on a reading list.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ListItem {
    pub id: u64,
    /// The book's slug.
    pub book: String,
}
