//! The catalogue: books named by client-chosen slugs, their copies, edits,
//! the front page's featured books, and withdrawal (a soft delete). Anyone
//! may read it; only staff write it.

use super::bugs::LibraryBug;
use super::records::{Book, BookStatus, Copy, CopyStatus, Member};
use super::state::{require_staff, Library, LibraryError};

/// Longest slug accepted, in characters.
const MAX_SLUG_CHARS: usize = 80;

/// What staff send to add a book.
pub(crate) struct NewBook {
    pub slug: String,
    pub title: String,
    pub author: String,
}

impl Library {
    /// The books in `status`, ordered by slug; copies included.
    pub fn books(&self, status: BookStatus) -> Vec<Book> {
        self.lock().books.values().filter(|b| b.status == status).cloned().collect()
    }

    /// One book in the catalogue; a withdrawn one is 404 like a missing one.
    pub fn book(&self, slug: &str) -> Result<Book, LibraryError> {
        match self.lock().books.get(slug) {
            Some(book) if book.status == BookStatus::Available => Ok(book.clone()),
            _ => Err(LibraryError::NotFound("book")),
        }
    }

    /// Adds a book under the slug its creator chose; a slug is never reused.
    pub fn add_book(&self, caller: &Member, new: NewBook) -> Result<Book, LibraryError> {
        require_staff(caller)?;
        check_slug(&new.slug)?;
        if new.title.trim().is_empty() {
            return Err(LibraryError::Invalid("a book needs a title".into()));
        }
        let mut state = self.lock();
        if state.books.contains_key(&new.slug) {
            return Err(LibraryError::Conflict(format!("the slug `{}` is taken", new.slug)));
        }
        let book = Book {
            slug: new.slug,
            title: new.title.trim().to_string(),
            author: new.author.trim().to_string(),
            status: BookStatus::Available,
            featured: false,
            copies: Vec::new(),
        };
        state.books.insert(book.slug.clone(), book.clone());
        Ok(book)
    }

    /// Puts a new copy of an available book on the shelf.
    pub fn add_copy(
        &self,
        caller: &Member,
        slug: &str,
        barcode: &str,
    ) -> Result<Copy, LibraryError> {
        require_staff(caller)?;
        if barcode.trim().is_empty() {
            return Err(LibraryError::Invalid("a copy needs a barcode".into()));
        }
        let mut state = self.lock();
        let id = state.copy_id();
        let book = match state.books.get_mut(slug) {
            Some(book) if book.status == BookStatus::Available => book,
            _ => return Err(LibraryError::NotFound("book")),
        };
        let copy = Copy { id, barcode: barcode.trim().to_string(), status: CopyStatus::Shelved };
        book.copies.push(copy.clone());
        Ok(copy)
    }

    /// Withdraws a book: it leaves reads and the default list, and stays in
    /// `?status=withdrawn`. Withdrawing twice is a 404, like any gone book.
    pub fn withdraw(&self, caller: &Member, slug: &str) -> Result<(), LibraryError> {
        require_staff(caller)?;
        match self.lock().books.get_mut(slug) {
            Some(book) if book.status == BookStatus::Available => {
                book.status = BookStatus::Withdrawn;
                Ok(())
            }
            _ => Err(LibraryError::NotFound("book")),
        }
    }
}

/// What staff send to edit a book; a field left out keeps its value.
#[derive(Debug, Default)]
pub(crate) struct BookEdit {
    pub title: Option<String>,
    pub author: Option<String>,
}

impl Library {
    /// Edits the title or author of a book in the catalogue.
    pub fn edit_book(
        &self,
        caller: &Member,
        slug: &str,
        edit: BookEdit,
    ) -> Result<Book, LibraryError> {
        require_staff(caller)?;
        if edit.title.as_deref().is_some_and(|title| title.trim().is_empty()) {
            return Err(LibraryError::Invalid("a book needs a title".into()));
        }
        let mut state = self.lock();
        // BUG edit-after-withdraw: the edit looks the slug up and forgets
        // that a withdrawn book has left the catalogue.
        let withdrawn_too = self.bug(LibraryBug::EditAfterWithdraw);
        let book = match state.books.get_mut(slug) {
            Some(book) if book.status == BookStatus::Available || withdrawn_too => book,
            _ => return Err(LibraryError::NotFound("book")),
        };
        if let Some(title) = edit.title {
            book.title = title.trim().to_string();
        }
        if let Some(author) = edit.author {
            book.author = author.trim().to_string();
        }
        Ok(book.clone())
    }

    /// Shows a book on the front page.
    pub fn feature_book(&self, caller: &Member, slug: &str) -> Result<Book, LibraryError> {
        // BUG feature-by-member: the handler checks that someone is logged
        // in (the caller) and forgets to check that they are staff.
        if !self.bug(LibraryBug::FeatureByMember) {
            require_staff(caller)?;
        }
        match self.lock().books.get_mut(slug) {
            Some(book) if book.status == BookStatus::Available => {
                book.featured = true;
                Ok(book.clone())
            }
            _ => Err(LibraryError::NotFound("book")),
        }
    }
}

/// A slug is lowercase letters, digits and single dashes: it goes in URLs as is.
fn check_slug(slug: &str) -> Result<(), LibraryError> {
    let well_formed = !slug.is_empty()
        && slug.chars().count() <= MAX_SLUG_CHARS
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(LibraryError::Invalid(format!(
            "the slug `{slug}` must be 1 to {MAX_SLUG_CHARS} lowercase letters, digits and single dashes"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_words() {
        assert!(check_slug("the-dispossessed-2").is_ok());
        for bad in ["", "Dune", "a b", "-dune", "dune-", "du--ne", "dune/2"] {
            assert!(check_slug(bad).is_err(), "{bad:?}");
        }
    }
}
