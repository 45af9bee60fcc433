//! Reading lists: create, read, add a book, publish.

use hyper::body::Incoming;
use hyper::{Method, Request};
use serde::Deserialize;
use serde_json::json;

use super::{caller, created, creator, ok, unrouted, Outcome, PREFIX};
use crate::library::http::{parse_json, read_body};
use crate::library::state::Library;

pub(super) async fn route(library: &Library, req: Request<Incoming>, segments: &[&str]) -> Outcome {
    match (segments, req.method().clone()) {
        (["lists"], Method::GET) => ok(json!({ "lists": library.lists(&caller(library, &req)?) })),
        (["lists"], Method::POST) => create_list(library, req).await,
        (["lists", id], Method::GET) => ok(library.list(&caller(library, &req)?, id)?),
        (["lists", id, "items"], Method::POST) => add_item(library, req, id).await,
        (["lists", id, "publish"], Method::POST) => {
            ok(library.publish_list(&caller(library, &req)?, id)?)
        }
        _ => unrouted(&req, segments),
    }
}

/// `{"name": ...}`; any other field is a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListBody {
    name: String,
}

async fn create_list(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = creator(library, &req)?;
    let body: ListBody = parse_json(&read_body(req).await?)?;
    let list = library.create_list(&member, &body.name)?;
    let location = format!("{PREFIX}/lists/{}", list.id);
    created(list, Some(location))
}

/// `{"book": slug}`; any other field is a 400.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    book: String,
}

async fn add_item(library: &Library, req: Request<Incoming>, id: &str) -> Outcome {
    let member = caller(library, &req)?;
    let body: ItemBody = parse_json(&read_body(req).await?)?;
    created(library.add_item(&member, id, &body.book)?, None)
}
