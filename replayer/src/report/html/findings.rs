//! The findings part of the page: an index, then one article a finding
//! with its minimal sequence (what each step sent and was answered, behind
//! a disclosure, secrets blanked), the steps that left the learned machine,
//! the evidence, the reproducer's path, and links to its state machines.

use std::fmt::Write as _;

use venomqa_learner::{Model, Resource};

use super::machines::Machine;
use super::secrets::Secrets;
use crate::oracle::finding::{Finding, SentRequest};
use crate::report::markup::escape_text;
use crate::report::{confidence_name, headline_action, steps, strip_copies, ReportContext, Step};

/// Longest body shown for one request or answer; the JSON report has it whole.
const MAX_BODY: usize = 4000;

/// Writes the index and one article a finding.
pub(super) fn write_findings(
    page: &mut String,
    findings: &[Finding],
    ctx: &ReportContext,
    model: &Model,
    machines: &[Machine],
) {
    page.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    // Each finding's secrets, to blank them in all its text.
    let secrets: Vec<Secrets> = findings.iter().map(|f| Secrets::of(&f.requests)).collect();
    if findings.is_empty() {
        page.push_str("<p class=\"none\">No findings.</p>\n");
    } else {
        page.push_str(
            "<table class=\"index\">\n<tr><th>#</th><th>oracle</th><th>confidence</th>\
             <th>action</th><th>summary</th></tr>\n",
        );
        for (i, (f, secrets)) in findings.iter().zip(&secrets).enumerate() {
            let _ = writeln!(
                page,
                "<tr><td><a href=\"#finding-{n}\">#{n}</a></td><td>{}</td><td>{}</td>\
                 <td><code>{}</code></td><td>{}</td></tr>",
                f.oracle.name(),
                confidence_badge(f),
                escape_text(&headline_action(f)),
                escape_text(&secrets.text(&f.summary)),
                n = i + 1,
            );
        }
        page.push_str("</table>\n");
    }
    for (index, (finding, secrets)) in findings.iter().zip(&secrets).enumerate() {
        let article = Article { index, finding, secrets, ctx, model, machines };
        article.write(page);
    }
    page.push_str("</section>\n");
}

fn confidence_badge(f: &Finding) -> String {
    let name = confidence_name(f.confidence);
    format!("<span class=\"confidence {name}\">{name}</span>")
}

/// One finding and what its article needs from the rest of the page.
struct Article<'a> {
    /// Its position in the findings: `#1` is 0.
    index: usize,
    finding: &'a Finding,
    secrets: &'a Secrets,
    ctx: &'a ReportContext,
    model: &'a Model,
    machines: &'a [Machine<'a>],
}

impl Article<'_> {
    fn write(&self, page: &mut String) {
        let (n, f, secrets) = (self.index + 1, self.finding, self.secrets);
        let _ = write!(
            page,
            "<article class=\"finding\" id=\"finding-{n}\">\n\
             <h3><a href=\"#finding-{n}\">#{n}</a> {} · {} · <code>{}</code></h3>\n",
            f.oracle.name(),
            confidence_badge(f),
            escape_text(&headline_action(f))
        );
        if !f.summary.is_empty() {
            let summary = escape_text(&secrets.text(&f.summary));
            let _ = writeln!(page, "<p class=\"summary\">{summary}</p>");
        }
        let mut facts = vec![format!("mutation: <b>{}</b>", escape_text(&f.mutation))];
        if !f.journey.is_empty() {
            facts.push(format!("journey: <b>{}</b>", escape_text(&f.journey)));
        }
        if let Some((hits, runs)) = f.reproduced {
            facts.push(format!("reproduced {hits} of {runs} runs"));
        }
        let links = self.machine_links();
        if !links.is_empty() {
            facts.push(format!("state machine: {}", links.join(", ")));
        }
        let _ = writeln!(page, "<p class=\"facts\">{}</p>", facts.join(" · "));

        page.push_str("<ol class=\"steps\">\n");
        for step in steps(f) {
            write_step(page, &step, secrets);
        }
        page.push_str("</ol>\n");
        self.write_off_machine(page);
        if !f.evidence.is_empty() {
            page.push_str("<h4>Evidence</h4>\n<ul class=\"evidence\">\n");
            for line in &f.evidence {
                let _ = writeln!(page, "<li>{}</li>", escape_text(&secrets.text(line)));
            }
            page.push_str("</ul>\n");
        }
        if let Some(path) = self.ctx.reproducer_files.get(self.index) {
            let _ = writeln!(
                page,
                "<p class=\"reproducer\">Reproducer: <code>{}</code> \
                 (bash + curl; it sends the credentials this page hides)</p>",
                escape_text(&path.display().to_string())
            );
        }
        page.push_str("</article>\n");
    }

    /// The steps that did what the learned machines never showed: often the bug itself.
    fn write_off_machine(&self, page: &mut String) {
        for m in self.machines {
            for off in &m.walks[self.index].off_machine {
                let led = match &off.to {
                    Some(to) => format!(" and left it in <b>{}</b>", escape_text(to)),
                    None => String::new(),
                };
                let _ = writeln!(
                    page,
                    "<p class=\"off-machine\">Step {} left the learned machine of \
                     <a href=\"#{}\">{}</a>: <code>{}</code> was accepted in <b>{}</b>{led}, \
                     which the recording never showed.</p>",
                    off.step,
                    m.anchor,
                    escape_text(&m.machine.resource),
                    escape_text(&off.action),
                    escape_text(&off.from)
                );
            }
        }
    }

    /// Links to the machines the finding is about: its headline action's
    /// resource, and any other its sequence touched.
    fn machine_links(&self) -> Vec<String> {
        let action = headline_action(self.finding);
        let action = strip_copies(&action);
        let own = self.model.resources.iter().find(|r| acts_on(r, action)).map(|r| r.name.as_str());
        self.machines
            .iter()
            .filter(|m| Some(m.machine.resource.as_str()) == own || m.walks[self.index].touched())
            .map(|m| format!("<a href=\"#{}\">{}</a>", m.anchor, escape_text(&m.machine.resource)))
            .collect()
    }
}

fn acts_on(resource: &Resource, action: &str) -> bool {
    resource.create.as_deref() == Some(action)
        || [&resource.read, &resource.update, &resource.delete, &resource.other]
            .iter()
            .any(|actions| actions.iter().any(|a| a == action))
}

/// One step: its action, status and user, and what was sent and answered
/// behind a disclosure.
fn write_step(page: &mut String, step: &Step, secrets: &Secrets) {
    let _ = write!(page, "<li><code>{}</code>", escape_text(step.label));
    let Some(r) = step.request else {
        page.push_str("</li>\n");
        return;
    };
    let (status, class) = match r.status {
        Some(s) => (s.to_string(), format!("s{}xx", s / 100)),
        None => ("no response".to_string(), "none".to_string()),
    };
    let _ = write!(page, " → <span class=\"status {class}\">{status}</span>");
    if let Some(user) = &r.user {
        let _ = write!(page, " <span class=\"user\">as {}</span>", escape_text(user));
    }
    let _ = write!(
        page,
        "\n<details><summary>request and answer</summary>\n<pre class=\"request\">{}</pre>\n",
        escape_text(&request_text(r, secrets))
    );
    if let Some(body) = &r.response_body {
        let _ = writeln!(
            page,
            "<pre class=\"answer\">{}</pre>",
            escape_text(&cut(&secrets.text(body)))
        );
    }
    page.push_str("</details></li>\n");
}

/// `POST http://…/orders` (×N when sent at once), the headers, a blank
/// line and the body, secrets blanked.
fn request_text(r: &SentRequest, secrets: &Secrets) -> String {
    let mut text = format!("{} {}", r.method, secrets.text(&r.url));
    if r.copies > 1 {
        let _ = write!(text, "   (×{} at once)", r.copies);
    }
    for (name, value) in &r.headers {
        let _ = write!(text, "\n{name}: {}", secrets.header(name, value));
    }
    if let Some(body) = &r.body {
        let _ = write!(text, "\n\n{}", cut(&secrets.text(body)));
    }
    text
}

/// At most `MAX_BODY` characters, saying how many were left out.
fn cut(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_BODY {
        return text.to_string();
    }
    let kept: String = text.chars().take(MAX_BODY).collect();
    format!("{kept}\n… ({} more characters in the JSON report)", total - MAX_BODY)
}
