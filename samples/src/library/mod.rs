//! The sample library: a community-library API shaped unlike the shop, with
//! seventeen planted sequence bugs.
//!
//! Where the shop has bearer tokens, random ids and four fixed users, the
//! library has cookie sessions, members who sign up in their journeys and
//! log in by email, seeded staff with staff-only actions, small sequential
//! ids that collide across collections and restart after a reset, slugs
//! the client chooses, a versioned prefix, a per-user singleton with an
//! `ETag`, children without a read of their own, a soft delete, a pickup
//! code issued to a member and redeemed by staff, reading lists that are
//! drafted then published, and public next to private resources.
//!
//! Split the way a request flows: `records` are what the API shows,
//! `state` holds them and the refusals, `accounts`, `profile`,
//! `preferences`, `catalogue`, `circulation` and `lists` hold the rules
//! (and the bugs), `http` and `routes` speak HTTP, `server` serves it, and
//! `driver` plays QA sessions against it.
//!
//! # Endpoints
//!
//! Outside the prefix: `GET /health`, and `POST /__reset` (the reset hook:
//! back to the seeded staff, every id counts from 1 again). Under
//! `/api/v1`:
//!
//! | Method and path | Who | What |
//! |---|---|---|
//! | `POST /members` | anyone | sign up: `{"member": {"email", "password", "name"}}` → 201 `{"member"}` |
//! | `POST /session` | anyone | log in: `{"member": {"email", "password"}}` or a form `email=&password=` → 200 `{"ok": true, "member"}` and `Set-Cookie: sid=…; HttpOnly`; wrong credentials → 200 `{"ok": false, "error": "wrong email or password"}` and no cookie |
//! | `DELETE /session` | signed in | log out → 204, the cookie expired |
//! | `GET /me` | signed in | the account (`id`, `email`, `name`, `role`) |
//! | `PUT /me` | signed in | rename: `{"name"}` → 200 the account; any other field is a 400 |
//! | `PUT /members/{id}/password` | that member | `{"password"}` → 204; someone else's id is a 404 |
//! | `GET`, `PUT`, `PATCH /me/preferences` | signed in | the account's one set of preferences (`notify_by`, `language`, `newsletter`), with an `ETag`; `PUT` replaces them all, `PATCH` some; both need `If-Match` (428 without, 412 stale) |
//! | `GET /books[?status=available\|withdrawn]` | anyone | the catalogue, copies included |
//! | `POST /books` | staff | add `{"slug", "title", "author"}` → 201, `Location: /api/v1/books/{slug}` |
//! | `GET /books/{slug}` | anyone | one book with its copies and `featured`; 404 once withdrawn |
//! | `PATCH /books/{slug}` | staff | edit `{"title"?, "author"?}` → 200; any other field is a 400; 404 once withdrawn |
//! | `POST /books/{slug}/feature` | staff | show it on the front page → 200 the book, `featured: true` |
//! | `DELETE /books/{slug}` | staff | withdraw (soft delete) → 204; the list `?status=withdrawn` still shows it |
//! | `POST /books/{slug}/copies` | staff | add `{"barcode"}` → 201; copies have no read of their own |
//! | `GET`, `POST /loans` | signed in | own loans (staff: all); borrow `{"book": slug}` → 201 |
//! | `GET /loans/{id}` | owner, staff | one loan |
//! | `POST /loans/{id}/renew`, `/return` | owner | renew (at most twice), return |
//! | `GET`, `POST /holds` | signed in | own holds (staff: all); hold `{"book": slug}` → 201 with a pickup `code` |
//! | `GET /holds/{id}` | owner, staff | one hold |
//! | `POST /holds/{id}/cancel` | owner | cancel a ready hold |
//! | `POST /desk/pickups` | staff | redeem `{"code"}` → 201 `{"hold", "loan"}`: the member's loan |
//! | `GET`, `POST /lists` | signed in | own reading lists (staff: all); start one `{"name"}` → 201, a `draft` |
//! | `GET /lists/{id}` | owner, staff | one list with its items |
//! | `POST /lists/{id}/items` | owner | add `{"book": slug}` to a draft → 201; items have no read of their own |
//! | `POST /lists/{id}/publish` | owner | draft → `published`, which is final |
//!
//! Members, copies, loans, holds, lists and list items are numbered 1, 2,
//! 3 … each on its own, so loan 1, hold 1 and list 1 exist side by side. The seeded staff
//! are [`STAFF`]; member accounts exist only once signed up.
//!
//! # Planted bugs
//!
//! Each is switched by [`LibraryBugSet`] (`--bugs all|none|name,…`):
//!
//! | Bug | Class | The violating sequence, accepted with 2xx |
//! |---|---|---|
//! | `double-pickup` | double operation | redeem a pickup code twice: two loans for one hold |
//! | `pickup-after-cancel` | after a final state | cancel a hold, then redeem its code |
//! | `renew-after-return` | after a final state | return a loan, then renew it: active again |
//! | `borrow-held-copy` | stale state | A holds the last copy, B borrows it |
//! | `cross-member-loan` | cross-user read and write | B reads and returns A's loan by its id |
//! | `loan-after-withdraw` | write after soft delete | staff withdraw a book, a member borrows it |
//! | `concurrent-borrow` | race of duplicates | two borrows of the last copy at once: both lent it |
//! | `session-after-logout` | session after logout | log out, then use the old `sid` |
//! | `stale-preferences` | stale validator | `PUT` preferences with an `If-Match` already used |
//! | `role-injection` | field injection (mass assignment) | `PUT /me` with `"role": "staff"`, a field the account shows and no client sends: the member is staff (read back in `GET /me`) |
//! | `login-enumeration` | user enumeration | a wrong password answers `"wrong password"`, an unknown email `"no account with this email"` (both 200 `{"ok": false}`); without the bug both say `"wrong email or password"` |
//! | `stale-patch-after-put` | interleaved stale validator | `PATCH` preferences with `If-Match: v`, `PUT` them with the next version, `PATCH` again with `v`: the `PUT`'s values are undone (a `PATCH` repeated with no `PUT` between is still a 412) |
//! | `item-after-publish` | child after its parent's transition | publish a reading list, then add a book to it: seen in `GET /lists/{id}` |
//! | `edit-after-withdraw` | write on a soft-deleted instance | withdraw a book, then `PATCH` it: its read stays 404, `?status=withdrawn` shows the edit |
//! | `create-after-logout` | create with a dead credential | log out, then `POST /lists`, `/loans`, `/holds` or `/books` with the old `sid`: created (reads and other writes still 401) |
//! | `cross-member-password` | another user's credential changed | B sends `PUT /members/{A's id}/password`: A's old password fails, B's choice logs in as A |
//! | `feature-by-member` | staff-only action by a customer | a member sends `POST /books/{slug}/feature`: the book shows `featured: true` |

mod accounts;
mod bugs;
mod catalogue;
mod circulation;
pub(crate) mod driver;
mod http;
mod lists;
mod preferences;
mod profile;
pub(crate) mod records;
mod routes;
mod server;
pub(crate) mod state;

pub use bugs::{LibraryBug, LibraryBugSet, UnknownLibraryBug};
pub use driver::drive_library;
pub use server::{serve_library, spawn_library, LibraryHandle};

/// How a library runs. The default plants every bug (it is a demo target)
/// and speaks plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct LibraryConfig {
    /// The sequence bugs to plant; [`LibraryBugSet::none`] gives a correct library.
    pub bugs: LibraryBugSet,
    /// Serve HTTPS with this certificate (a [`crate::SampleTls`]'s, or any
    /// rustls server config); `None`: plain HTTP.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

/// A seeded staff account: it exists from the start and after every reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffAccount {
    /// The email a staff member logs in with.
    pub email: &'static str,
    /// The password that goes with it.
    pub password: &'static str,
    /// The name shown on the account.
    pub name: &'static str,
}

/// The library's staff: the librarian runs the catalogue, the desk redeems pickups.
pub const STAFF: [StaffAccount; 2] = [
    StaffAccount {
        email: "librarian@library.test",
        password: "librarian-pw",
        name: "Lena Librarian",
    },
    StaffAccount { email: "desk@library.test", password: "desk-pw", name: "Dev Desk" },
];
