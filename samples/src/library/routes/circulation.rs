//! Loans, holds and the desk's pickups.

use hyper::body::Incoming;
use hyper::{Method, Request};
use serde::Deserialize;
use serde_json::json;

use super::{caller, created, creator, ok, unrouted, Outcome, PREFIX};
use crate::library::http::{parse_json, read_body};
use crate::library::state::Library;

pub(super) async fn route(library: &Library, req: Request<Incoming>, segments: &[&str]) -> Outcome {
    match (segments, req.method().clone()) {
        (["loans"], Method::GET) => ok(json!({ "loans": library.loans(&caller(library, &req)?) })),
        (["loans"], Method::POST) => borrow(library, req).await,
        (["loans", id], Method::GET) => ok(library.loan(&caller(library, &req)?, id)?),
        (["loans", id, "renew"], Method::POST) => ok(library.renew(&caller(library, &req)?, id)?),
        (["loans", id, "return"], Method::POST) => {
            ok(library.return_loan(&caller(library, &req)?, id)?)
        }
        (["holds"], Method::GET) => ok(json!({ "holds": library.holds(&caller(library, &req)?) })),
        (["holds"], Method::POST) => place_hold(library, req).await,
        (["holds", id], Method::GET) => ok(library.hold(&caller(library, &req)?, id)?),
        (["holds", id, "cancel"], Method::POST) => {
            ok(library.cancel_hold(&caller(library, &req)?, id)?)
        }
        (["desk", "pickups"], Method::POST) => redeem(library, req).await,
        _ => unrouted(&req, segments),
    }
}

/// Loans and holds name their book by slug: `{"book": "dune"}`.
#[derive(Deserialize)]
struct BookRef {
    book: String,
}

async fn borrow(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = creator(library, &req)?;
    let body: BookRef = parse_json(&read_body(req).await?)?;
    let loan = library.borrow(&member, &body.book).await?;
    let location = format!("{PREFIX}/loans/{}", loan.id);
    created(loan, Some(location))
}

async fn place_hold(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = creator(library, &req)?;
    let body: BookRef = parse_json(&read_body(req).await?)?;
    let hold = library.place_hold(&member, &body.book)?;
    let location = format!("{PREFIX}/holds/{}", hold.id);
    created(hold, Some(location))
}

#[derive(Deserialize)]
struct PickupBody {
    code: String,
}

async fn redeem(library: &Library, req: Request<Incoming>) -> Outcome {
    let member = caller(library, &req)?;
    let body: PickupBody = parse_json(&read_body(req).await?)?;
    let (hold, loan) = library.redeem(&member, &body.code)?;
    created(json!({ "hold": hold, "loan": loan }), None)
}
