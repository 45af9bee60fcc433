//! The catalogue's endpoints: books by slug, their copies, edits, the
//! featured flag, and withdrawal.

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{caller, created, creator, ok, unrouted, Outcome, PREFIX};
use crate::library::catalogue::{BookEdit, NewBook};
use crate::library::http::{form_field, no_content, parse_json, read_body, Refusal};
use crate::library::records::BookStatus;
use crate::library::state::Library;

pub(super) async fn route(library: &Library, req: Request<Incoming>, segments: &[&str]) -> Outcome {
    match (segments, req.method().clone()) {
        (["books"], Method::GET) => list_books(library, &req),
        (["books"], Method::POST) => add_book(library, req).await,
        (["books", slug], Method::GET) => ok(library.book(slug)?),
        (["books", slug], Method::PATCH) => edit_book(library, req, slug).await,
        (["books", slug], Method::DELETE) => {
            library.withdraw(&caller(library, &req)?, slug)?;
            Ok(no_content())
        }
        (["books", slug, "copies"], Method::POST) => add_copy(library, req, slug).await,
        (["books", slug, "feature"], Method::POST) => {
            ok(library.feature_book(&caller(library, &req)?, slug)?)
        }
        _ => unrouted(&req, segments),
    }
}

/// `?status=available` (the default) or `?status=withdrawn`.
fn list_books(library: &Library, req: &Request<Incoming>) -> Outcome {
    let query = req.uri().query().unwrap_or_default();
    let status = match form_field(query, "status").as_deref() {
        None | Some("available") => BookStatus::Available,
        Some("withdrawn") => BookStatus::Withdrawn,
        Some(other) => {
            let why = format!("status `{other}`: expected `available` or `withdrawn`");
            return Err(Refusal::new(StatusCode::BAD_REQUEST, why));
        }
    };
    ok(json!({ "books": library.books(status) }))
}

#[derive(Deserialize)]
struct BookBody {
    slug: String,
    title: String,
    #[serde(default)]
    author: String,
}

async fn add_book(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = creator(library, &req)?;
    let BookBody { slug, title, author } = parse_json(&read_body(req).await?)?;
    let book = library.add_book(&member, NewBook { slug, title, author })?;
    let location = format!("{PREFIX}/books/{}", book.slug);
    created(book, Some(location))
}

/// `{"title"?, "author"?}`; any other field is a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookEditBody {
    title: Option<String>,
    author: Option<String>,
}

async fn edit_book(library: &Library, req: Request<Incoming>, slug: &str) -> Outcome {
    let member = caller(library, &req)?;
    let body: BookEditBody = parse_json(&read_body(req).await?)?;
    ok(library.edit_book(&member, slug, BookEdit { title: body.title, author: body.author })?)
}

#[derive(Deserialize)]
struct CopyBody {
    barcode: String,
}

async fn add_copy(library: &Library, req: Request<Incoming>, slug: &str) -> Outcome {
    let member = caller(library, &req)?;
    let body: CopyBody = parse_json(&read_body(req).await?)?;
    created(library.add_copy(&member, slug, &body.barcode)?, None)
}
