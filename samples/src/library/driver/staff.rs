//! The staff's journeys: the librarian stocks the catalogue, features a
//! book, marks one damaged and withdraws it; the desk redeems pickup codes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::auth::{log_in, log_out, Account};
use super::visit::{Call, Visit};
use super::Run;
use crate::driver::DriveError;

type Step<T = ()> = Result<T, DriveError>;

/// The librarian adds every planned book with its copies, features the
/// first, marks the last damaged and withdraws it, and checks the lists.
pub(crate) async fn stock_catalogue(visit: &mut Visit<'_>, run: &Run) -> Step {
    if !log_in(visit, &Account::staff(0), false).await? {
        return Ok(());
    }
    visit.send(Call::get("GET /api/v1/me", "/api/v1/me".into())).await?;
    for k in 0..run.plan.books.len() {
        add_book(visit, run, k).await?;
    }
    let featured = run.slug(0);
    let path = format!("/api/v1/books/{featured}/feature");
    visit.send(Call::post("POST /api/v1/books/{slug}/feature", path, StatusCode::OK)).await?;
    withdraw_damaged(visit, run).await?;
    visit.send(Call::get("GET /api/v1/books", "/api/v1/books?status=withdrawn".into())).await?;
    visit.send(Call::get("GET /api/v1/books", "/api/v1/books".into())).await?;
    log_out(visit).await
}

/// Adds the run's `k`th book and its copies.
async fn add_book(visit: &mut Visit<'_>, run: &Run, k: usize) -> Step {
    let book = &run.plan.books[k];
    let slug = run.slug(k);
    let body = json!({ "slug": slug, "title": book.title, "author": book.author });
    let create = Call::post("POST /api/v1/books", "/api/v1/books".into(), StatusCode::CREATED);
    if visit.send(create.json(body)).await?.is_none() {
        return Ok(());
    }
    for c in 0..book.copies {
        let barcode = format!("{}-c{}", slug.chars().take(12).collect::<String>(), c + 1);
        let path = format!("/api/v1/books/{slug}/copies");
        let call = Call::post("POST /api/v1/books/{slug}/copies", path, StatusCode::CREATED);
        visit.send(call.json(json!({ "barcode": barcode }))).await?;
    }
    Ok(())
}

/// The book to withdraw: its title marked damaged, read, then withdrawn.
async fn withdraw_damaged(visit: &mut Visit<'_>, run: &Run) -> Step {
    let k = run.plan.withdrawn_book();
    let path = format!("/api/v1/books/{}", run.slug(k));
    let title = format!("{} (damaged)", run.plan.books[k].title);
    let edit = Call::new(Method::PATCH, "PATCH /api/v1/books/{slug}", path.clone(), StatusCode::OK);
    visit.send(edit.json(json!({ "title": title }))).await?;
    visit.send(Call::get("GET /api/v1/books/{slug}", path.clone())).await?;
    let delete =
        Call::new(Method::DELETE, "DELETE /api/v1/books/{slug}", path, StatusCode::NO_CONTENT);
    visit.send(delete).await?;
    Ok(())
}

/// The desk checks who it is logged in as, redeems `codes`, then lists the
/// holds and loans it can see (all of them).
pub(crate) async fn redeem_pickups(visit: &mut Visit<'_>, codes: &[String]) -> Step {
    if !log_in(visit, &Account::staff(1), true).await? {
        return Ok(());
    }
    visit.send(Call::get("GET /api/v1/me", "/api/v1/me".into())).await?;
    visit.send(Call::get("GET /api/v1/holds", "/api/v1/holds".into())).await?;
    for code in codes {
        let path = "/api/v1/desk/pickups".into();
        let call = Call::post("POST /api/v1/desk/pickups", path, StatusCode::CREATED);
        visit.send(call.json(json!({ "code": code }))).await?;
    }
    visit.send(Call::get("GET /api/v1/loans", "/api/v1/loans".into())).await?;
    log_out(visit).await
}
