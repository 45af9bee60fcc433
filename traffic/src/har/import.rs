//! HAR import: the log streamed in, one entry's JSON tree in memory at a
//! time, each entry converted as it comes (see `entry.rs`).

use std::io::{BufRead, BufReader, Read};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;
use serde_json::Value;

use super::entry::entry_to_exchange;
use super::HarError;
use crate::Exchange;

/// Reads a HAR log into exchanges, in file order. Entries without venomqa's
/// custom fields get id 0 and an empty session, for the store to assign.
pub fn read_har<R: Read>(input: R) -> Result<Vec<Exchange>, HarError> {
    let mut input = BufReader::new(input);
    // Some Windows tools start the file with a UTF-8 byte order mark.
    if input.fill_buf().map_err(HarError::Read)?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let mut state = ImportState::default();
    let mut json = serde_json::Deserializer::from_reader(input);
    let parsed = LevelSeed { level: Level::Root, state: &mut state }
        .deserialize(&mut json)
        .and_then(|()| json.end());
    // An unusable entry aborts the parse; its own error says more than serde's.
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    parsed.map_err(json_error)?;
    if !state.saw_log {
        return Err(HarError::NotHar(
            "no top-level `log` object (a HAR is {\"log\": {\"entries\": [...]}})".to_owned(),
        ));
    }
    if !state.saw_entries {
        return Err(HarError::NotHar("`log` has no `entries` array".to_owned()));
    }
    Ok(state.exchanges)
}

fn json_error(error: serde_json::Error) -> HarError {
    match error.classify() {
        Category::Io => HarError::Read(error.into()),
        Category::Syntax | Category::Eof => {
            let (line, column) = (error.line(), error.column());
            let full = error.to_string();
            let position = format!(" at line {line} column {column}");
            let reason = match (error.classify(), line, column) {
                (Category::Eof, 1, 0) => "the input is empty".to_owned(),
                _ => full.strip_suffix(&position).unwrap_or(&full).to_owned(),
            };
            HarError::NotJson { line, column, reason }
        }
        Category::Data => HarError::NotHar(error.to_string()),
    }
}

/// What the streaming parse collects: entries are converted one at a time,
/// so only one entry's JSON tree is ever in memory.
#[derive(Default)]
struct ImportState {
    exchanges: Vec<Exchange>,
    failure: Option<HarError>,
    saw_log: bool,
    saw_entries: bool,
}
impl ImportState {
    /// Notes that the parse found the field that leads to `level`.
    fn reached(&mut self, level: Level) {
        match level {
            Level::Root => {}
            Level::Log => self.saw_log = true,
            Level::Entries => self.saw_entries = true,
        }
    }
}

/// How deep the streaming parse is: the root object, `log`, or
/// `log.entries`. Each object level reads one field, skipping the others.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Log,
    Entries,
}

impl Level {
    /// The field an object level reads, and the level inside it.
    fn inner(self) -> Option<(&'static str, Level)> {
        match self {
            Level::Root => Some(("log", Level::Log)),
            Level::Log => Some(("entries", Level::Entries)),
            Level::Entries => None,
        }
    }
}

/// The one seed of the streaming parse, at any level: it records that the
/// level was reached, then descends into the level's field (an object) or
/// converts the entries (the array).
struct LevelSeed<'s> {
    level: Level,
    state: &'s mut ImportState,
}

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.level {
            Level::Entries => deserializer.deserialize_seq(self),
            Level::Root | Level::Log => deserializer.deserialize_map(self),
        }
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self.level {
            Level::Root => "a HAR object such as {\"log\": {\"entries\": [...]}}",
            Level::Log => "a HAR `log` object with an `entries` array",
            Level::Entries => "`log.entries` as an array of HAR entries",
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((field, inner)) = self.level.inner() else {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        };
        let state = self.state;
        while let Some(key) = map.next_key::<String>()? {
            if key == field {
                state.reached(inner);
                map.next_value_seed(LevelSeed { level: inner, state: &mut *state })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.level != Level::Entries {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let state = self.state;
        let mut index = state.exchanges.len();
        while let Some(entry) = seq.next_element::<Value>()? {
            match entry_to_exchange(index, &entry) {
                Ok(exchange) => state.exchanges.push(exchange),
                Err(failure) => {
                    state.failure = Some(failure);
                    return Err(de::Error::custom("unusable HAR entry"));
                }
            }
            index += 1;
        }
        Ok(())
    }
}
