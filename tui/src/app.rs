//! The UI's state and what each key does to it. Nothing here waits: a new snapshot is
//! swapped in whole, and the lists recompute which rows they show, keeping the selected
//! host or site selected.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sixfive_inventory::model::{Level, Stage};
use sixfive_inventory::run::{Progress, RunId};
use sixfive_inventory::store::{Board, EditField, HostLine, SiteLine};
use tokio::sync::{oneshot, watch};

use crate::keys::{Action, Bindings, Pressed};
use crate::query::Query;
use crate::recheck::{Rechecking, Target};
use crate::snapshot::{Ask, Detail, Reply};
use crate::summary::{Summary, summarise};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Hosts,
    Sites,
    HostDetail,
    SiteDetail,
    Help,
}

impl Screen {
    fn is_detail(self) -> bool {
        matches!(self, Screen::HostDetail | Screen::SiteDetail)
    }

    pub const TABS: [Screen; 3] = [Screen::Overview, Screen::Hosts, Screen::Sites];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Overview => "Overview",
            Screen::Hosts => "Hosts",
            Screen::Sites => "Sites",
            Screen::HostDetail => "Host",
            Screen::SiteDetail => "Site",
            Screen::Help => "Help",
        }
    }
}

/// A status-line message: what an action did, or trouble (a bad query, a failed write),
/// which shows in the error colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub trouble: bool,
}

impl Notice {
    pub fn done(text: impl Into<String>) -> Self {
        Notice {
            text: text.into(),
            trouble: false,
        }
    }

    pub fn trouble(text: impl Into<String>) -> Self {
        Notice {
            text: text.into(),
            trouble: true,
        }
    }
}

impl std::ops::Deref for Notice {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What the bottom line is taking: keys, or a line being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Keys,
    Filter(String),
    Command(String),
    /// `field=value` for the host or site being edited.
    Edit(Target, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostColumn {
    Fqdn,
    Agency,
    Level,
    Score,
    Failing,
    Stage,
}

impl HostColumn {
    /// Whether the column lists its worst first when read descending: a column chosen
    /// with `s` starts worst first (most failing checks, earliest stage, lowest level).
    fn worst_first_descending(self) -> bool {
        self == HostColumn::Failing
    }

    const ORDER: [HostColumn; 6] = [
        HostColumn::Level,
        HostColumn::Fqdn,
        HostColumn::Agency,
        HostColumn::Score,
        HostColumn::Failing,
        HostColumn::Stage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HostColumn::Fqdn => "fqdn",
            HostColumn::Agency => "agency",
            HostColumn::Level => "level",
            HostColumn::Score => "score",
            HostColumn::Failing => "failing",
            HostColumn::Stage => "stage",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteColumn {
    State,
    Id,
    Rsrp,
    Sinr,
    Tech,
}

impl SiteColumn {
    /// As [`HostColumn::worst_first_descending`]: states sort best first, signals weakest
    /// first.
    fn worst_first_descending(self) -> bool {
        self == SiteColumn::State
    }

    const ORDER: [SiteColumn; 5] = [
        SiteColumn::State,
        SiteColumn::Id,
        SiteColumn::Rsrp,
        SiteColumn::Sinr,
        SiteColumn::Tech,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SiteColumn::State => "state",
            SiteColumn::Id => "site",
            SiteColumn::Rsrp => "rsrp",
            SiteColumn::Sinr => "sinr",
            SiteColumn::Tech => "tech",
        }
    }
}

/// One list's rows as shown (indices into the snapshot) and where the cursor is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    pub rows: Vec<usize>,
    pub selected: usize,
    /// The first row on screen; drawing moves it only as far as the cursor needs.
    pub offset: usize,
}

impl List {
    /// Shows the `items` that `keep` keeps, sorted by `compare` (which knows the
    /// direction and where unknown values go) and then by `key`, the cursor on the one
    /// `selected` picks where it is still shown.
    fn show<T>(
        &mut self,
        items: &[T],
        keep: impl Fn(&T) -> bool,
        compare: impl Fn(&T, &T) -> Ordering,
        key: impl Fn(&T) -> &str,
        selected: Option<impl Fn(&T) -> bool>,
    ) {
        let mut rows: Vec<usize> = (0..items.len()).filter(|i| keep(&items[*i])).collect();
        rows.sort_by(|a, b| {
            let (a, b) = (&items[*a], &items[*b]);
            compare(a, b).then_with(|| key(a).cmp(key(b)))
        });
        self.selected = selected
            .and_then(|is| rows.iter().position(|i| is(&items[*i])))
            .unwrap_or(self.selected)
            .min(rows.len().saturating_sub(1));
        self.rows = rows;
    }

    /// The first row to draw in `height` rows, keeping the cursor in view.
    pub fn scroll(&mut self, height: usize) -> usize {
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if height > 0 && self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self
            .offset
            .min(self.rows.len().saturating_sub(height.max(1)));
        self.offset
    }

    fn step(&mut self, by: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(by).min(last);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    Quit,
}

/// What the UI asks of the world outside it; the draw loop carries each out.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Store(Ask),
    Recheck(Target),
}

/// A re-check the run driver is doing for `r`.
pub struct Running {
    pub target: Target,
    pub started: DateTime<Utc>,
    pub progress: watch::Receiver<Progress>,
    pub done: oneshot::Receiver<Result<RunId, String>>,
}

pub struct App {
    /// The city and the store, for the header.
    pub label: String,
    pub board: Arc<Board>,
    /// The overview's figures for this board, worked out once per snapshot, not per frame.
    pub(crate) summary: Summary,
    /// When the snapshot was read; None until the first arrives.
    pub loaded_at: Option<DateTime<Utc>>,
    pub screen: Screen,
    /// Where `esc` and `?` go back to.
    pub previous: Screen,
    pub input: Input,
    pub query: Query,
    /// A message for the status line (a bad query, an unknown command, what an action did).
    pub status: Option<Notice>,
    pub hosts: List,
    pub sites: List,
    pub host_sort: (HostColumn, bool),
    pub site_sort: (SiteColumn, bool),
    /// The level a host must reach to count as ready.
    pub require: Level,
    /// Rows a page holds, as last drawn (ctrl+u/d move half of it).
    pub page: usize,
    pub bindings: Bindings,
    /// The first press of a doubled key (`gg`), waiting for the second.
    half_pressed: Option<char>,
    /// The host or site a detail screen shows, by name: the list's cursor may move on
    /// (a filter, new data) while the screen stays on what was opened.
    focused: Option<Target>,
    /// The detail screen's host or site as the worker last read it.
    pub detail: Option<Arc<Detail>>,
    /// The first line of the detail screen's scrolling part on screen.
    pub detail_scroll: usize,
    /// Requests for the draw loop to carry out, oldest first.
    pub outbox: Vec<Request>,
    pub rechecks: Vec<Running>,
    /// Who edits, for the audit log.
    pub who: String,
    /// Where `x` writes its CSV files.
    pub export_dir: PathBuf,
    /// The language of the report `x` writes on the overview (tui.toml's `report-lang`).
    pub report_lang: sixfive_report::progress::Lang,
    /// The time the frame is drawn at, and the zone to show times in: set by the draw
    /// loop, fixed by tests.
    pub now: DateTime<Utc>,
    pub zone: FixedOffset,
}

impl App {
    pub fn new(label: String, require: Level) -> Self {
        let board = Arc::new(Board::default());
        let now = Utc::now();
        App {
            label,
            summary: summarise(&board, require, now.date_naive()),
            board,
            loaded_at: None,
            screen: Screen::Overview,
            previous: Screen::Overview,
            input: Input::Keys,
            query: Query::default(),
            status: None,
            hosts: List::default(),
            sites: List::default(),
            host_sort: (HostColumn::Level, false),
            site_sort: (SiteColumn::State, true),
            require,
            page: 20,
            bindings: Bindings::default(),
            half_pressed: None,
            focused: None,
            detail: None,
            detail_scroll: 0,
            outbox: Vec::new(),
            rechecks: Vec::new(),
            who: "tui".into(),
            export_dir: PathBuf::from("."),
            report_lang: sixfive_report::progress::Lang::default(),
            now,
            zone: *chrono::Local::now().offset(),
        }
    }

    /// Swaps in a new snapshot, keeping each list's selected row by its key.
    pub fn set_board(&mut self, board: Arc<Board>, loaded_at: DateTime<Utc>) {
        let (host, site) = self.selection();
        self.summary = summarise(&board, self.require, self.now.date_naive());
        self.board = board;
        self.loaded_at = Some(loaded_at);
        self.refresh(host, site);
    }

    /// Takes the worker's answer: a detail for the screen showing it, or what an edit did.
    pub fn reply(&mut self, reply: Reply) {
        match reply {
            Reply::Detail(detail) => {
                let shown = self.under_help();
                if self.focus_of(shown).as_ref() == Some(&detail.target()) {
                    self.detail = Some(detail);
                }
            }
            Reply::Status(Ok(said)) => self.status = Some(Notice::done(said)),
            Reply::Status(Err(why)) => self.status = Some(Notice::trouble(why)),
        }
    }

    /// The screen shown, or under Help the one Help lies over.
    fn under_help(&self) -> Screen {
        if self.screen == Screen::Help {
            self.previous
        } else {
            self.screen
        }
    }

    /// The host or site the detail screen shows.
    pub fn focus(&self) -> Option<Target> {
        self.focus_of(self.screen)
    }

    fn focus_of(&self, screen: Screen) -> Option<Target> {
        match screen {
            Screen::HostDetail | Screen::SiteDetail => self.focused.clone(),
            _ => None,
        }
    }

    /// The host a host detail screen shows, while the board still has it.
    pub fn focused_host(&self) -> Option<&HostLine> {
        match &self.focused {
            Some(Target::Host(fqdn)) => self.board.hosts.iter().find(|h| &h.fqdn == fqdn),
            _ => None,
        }
    }

    pub fn focused_site(&self) -> Option<&SiteLine> {
        match &self.focused {
            Some(Target::Site(id)) => self.board.sites.iter().find(|s| &s.id == id),
            _ => None,
        }
    }

    /// The host or site an action is about: the detail screen's, or the list's cursor.
    fn target(&self) -> Option<Target> {
        match self.screen {
            Screen::Hosts => self.selected_host().map(|h| Target::Host(h.fqdn.clone())),
            Screen::Sites => self.selected_site().map(|s| Target::Site(s.id.clone())),
            Screen::HostDetail | Screen::SiteDetail => self.focused.clone(),
            Screen::Overview | Screen::Help => None,
        }
    }

    /// The draw loop started `r`'s re-check of `target`, or could not.
    pub fn recheck_started(&mut self, target: Target, started: Result<Rechecking, String>) {
        match started {
            Ok(rechecking) => {
                self.status = Some(Notice::done(format!("re-checking {}…", target.name())));
                self.rechecks.push(Running {
                    target,
                    started: self.now,
                    progress: rechecking.progress,
                    done: rechecking.done,
                });
            }
            Err(why) => {
                self.status = Some(Notice::trouble(format!(
                    "cannot re-check {}: {why}",
                    target.name()
                )))
            }
        }
    }

    /// Notes the re-checks that ended since the last frame.
    pub fn tick(&mut self) {
        let mut ended = Vec::new();
        self.rechecks
            .retain_mut(|running| match running.done.try_recv() {
                Err(oneshot::error::TryRecvError::Empty) => true,
                Ok(Ok(run)) => {
                    ended.push(Notice::done(format!(
                        "{} re-checked (run {run})",
                        running.target.name()
                    )));
                    false
                }
                Ok(Err(why)) => {
                    ended.push(Notice::trouble(format!(
                        "re-check of {} failed: {why}",
                        running.target.name()
                    )));
                    false
                }
                Err(oneshot::error::TryRecvError::Closed) => {
                    ended.push(Notice::trouble(format!(
                        "re-check of {} stopped",
                        running.target.name()
                    )));
                    false
                }
            });
        if let Some(last) = ended.pop() {
            self.status = Some(last);
        }
    }

    /// Whether `r` is re-checking this host or site now.
    pub fn rechecking(&self, target: &Target) -> bool {
        self.rechecks.iter().any(|r| &r.target == target)
    }

    pub fn selected_host(&self) -> Option<&HostLine> {
        let index = *self.hosts.rows.get(self.hosts.selected)?;
        self.board.hosts.get(index)
    }

    pub fn selected_site(&self) -> Option<&SiteLine> {
        let index = *self.sites.rows.get(self.sites.selected)?;
        self.board.sites.get(index)
    }

    /// Recomputes the shown rows (filter, then sort) and puts the cursor back on `host`
    /// and `site` where they are still shown.
    fn refresh(&mut self, host: Option<String>, site: Option<String>) {
        let board = Arc::clone(&self.board);
        let (column, descending) = self.host_sort;
        self.hosts.show(
            &board.hosts,
            |h| self.query.host(h),
            |a, b| compare_hosts(a, b, column, descending),
            |h| &h.fqdn,
            host.map(|fqdn| move |h: &HostLine| h.fqdn == fqdn),
        );
        let (column, descending) = self.site_sort;
        self.sites.show(
            &board.sites,
            |s| self.query.site(s),
            |a, b| compare_sites(a, b, column, descending),
            |s| &s.id,
            site.map(|id| move |s: &SiteLine| s.id == id),
        );
    }

    /// The keys of the rows the lists' cursors are on.
    fn selection(&self) -> (Option<String>, Option<String>) {
        (
            self.selected_host().map(|h| h.fqdn.clone()),
            self.selected_site().map(|s| s.id.clone()),
        )
    }

    fn refresh_keeping_selection(&mut self) {
        let (host, site) = self.selection();
        self.refresh(host, site);
    }

    /// Applies a key; says whether to go on.
    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Outcome::Quit;
        }
        if self.input == Input::Keys {
            return self.normal_key(key);
        }
        self.typed_key(key);
        Outcome::Continue
    }

    /// A key while a filter, command or edit line is being typed.
    fn typed_key(&mut self, key: KeyEvent) {
        let line = match &mut self.input {
            Input::Filter(line) | Input::Command(line) | Input::Edit(_, line) => line,
            Input::Keys => return,
        };
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.input = Input::Keys,
            KeyCode::Enter => match std::mem::replace(&mut self.input, Input::Keys) {
                Input::Filter(line) => self.apply_filter(&line),
                Input::Command(line) => self.command(&line),
                Input::Edit(target, line) => self.edit(target, &line),
                Input::Keys => {}
            },
            // Readline's kill-line: start the line afresh.
            KeyCode::Char('u') if control => line.clear(),
            KeyCode::Backspace => {
                line.pop();
            }
            // Other control and alt chords are keys, not text.
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                line.push(c)
            }
            _ => {}
        }
    }

    /// A bad query keeps the filter in force and says why.
    pub fn apply_filter(&mut self, text: &str) {
        match Query::parse(text) {
            Ok(query) => {
                self.query = query;
                self.status = None;
                self.refresh_keeping_selection();
            }
            Err(error) => self.status = Some(Notice::trouble(error.to_string())),
        }
    }

    /// `field=value` from the edit line: stage, owner or note; an empty value clears it.
    fn edit(&mut self, target: Target, line: &str) {
        match parse_edit(line) {
            Ok((EditField::Stage, _)) if matches!(target, Target::Site(_)) => {
                self.status = Some(Notice::trouble(
                    "a site has no stage: edit its owner= or note=",
                ))
            }
            Ok((field, value)) => self.outbox.push(Request::Store(Ask::Edit {
                target,
                field,
                value,
                who: self.who.clone(),
            })),
            Err(why) => self.status = Some(Notice::trouble(why)),
        }
    }

    fn command(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("hosts" | "h"), None) => self.show(Screen::Hosts),
            (Some("sites" | "s"), None) => self.show(Screen::Sites),
            (Some("overview" | "o"), None) => self.show(Screen::Overview),
            (Some("help"), None) => self.show(Screen::Help),
            (Some("agency" | "a"), Some(agency)) => {
                self.apply_filter(&format!("agency={agency}"));
                if !matches!(self.screen, Screen::Hosts | Screen::Sites) {
                    self.show(Screen::Hosts);
                }
            }
            (Some("agency" | "a"), None) => self.apply_filter(""),
            (Some("q" | "quit"), None) => {
                self.status = Some(Notice::done(format!(
                    "press {} to quit",
                    self.bindings.keys_of(Action::Quit)
                )))
            }
            _ => {
                self.status = Some(Notice::trouble(format!(
                    "unknown command `{line}`: try :hosts, :sites, :overview, :agency ID, :help"
                )))
            }
        }
    }

    fn show(&mut self, screen: Screen) {
        self.status = None;
        if screen == self.screen {
            return;
        }
        // Help lies over a screen: what that screen shows stays as it was.
        let was = self.focus_of(self.under_help());
        if screen == Screen::Help {
            self.previous = self.screen;
            self.screen = screen;
            return;
        }
        if self.screen != Screen::Help {
            self.previous = self.screen;
            self.detail_scroll = 0;
        }
        self.screen = screen;
        // A detail opens on the list's cursor; back from help it stays on what it showed.
        self.focused = match screen {
            _ if was.is_some() && screen.is_detail() => was.clone(),
            Screen::HostDetail => self.selected_host().map(|h| Target::Host(h.fqdn.clone())),
            Screen::SiteDetail => self.selected_site().map(|s| Target::Site(s.id.clone())),
            _ => None,
        };
        let focus = self.focus();
        if focus != was {
            self.detail = None;
            self.detail_scroll = 0;
            self.outbox.push(Request::Store(Ask::Focus(focus)));
        }
    }

    fn list(&mut self) -> Option<&mut List> {
        match self.screen {
            Screen::Hosts => Some(&mut self.hosts),
            Screen::Sites => Some(&mut self.sites),
            _ => None,
        }
    }

    /// Moves the cursor of the list on screen, or scrolls the detail.
    fn step(&mut self, by: isize) {
        if let Some(list) = self.list() {
            list.step(by);
        } else if self.screen.is_detail() {
            self.detail_scroll = self.detail_scroll.saturating_add_signed(by);
        }
    }

    /// The tab a screen belongs to: a detail's list, what help lies over, or the screen.
    pub fn list_screen(&self) -> Screen {
        match self.screen {
            Screen::HostDetail => Screen::Hosts,
            Screen::SiteDetail => Screen::Sites,
            Screen::Help => self.previous,
            other => other,
        }
    }

    fn normal_key(&mut self, key: KeyEvent) -> Outcome {
        let action = match self.bindings.press(key, self.half_pressed.take()) {
            Pressed::Action(action) => action,
            Pressed::Half(c) => {
                self.half_pressed = Some(c);
                return Outcome::Continue;
            }
            Pressed::Nothing => return Outcome::Continue,
        };
        let half = isize::try_from((self.page / 2).max(1)).unwrap_or(1);
        match action {
            Action::Quit => return Outcome::Quit,
            Action::Help => {
                if self.screen == Screen::Help {
                    self.show(self.previous);
                } else {
                    self.show(Screen::Help);
                }
            }
            Action::Back => match self.screen {
                Screen::Help => self.show(self.previous),
                Screen::HostDetail | Screen::SiteDetail => self.show(self.list_screen()),
                _ if !self.query.is_empty() => self.apply_filter(""),
                _ => self.status = None,
            },
            Action::NextScreen => self.show(beside(&Screen::TABS, self.list_screen(), 1)),
            Action::PreviousScreen => self.show(beside(&Screen::TABS, self.list_screen(), -1)),
            Action::Overview => self.show(Screen::Overview),
            Action::Hosts => self.show(Screen::Hosts),
            Action::Sites => self.show(Screen::Sites),
            Action::Filter => self.input = Input::Filter(self.query.text().to_owned()),
            Action::Command => self.input = Input::Command(String::new()),
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::HalfPageDown => self.step(half),
            Action::HalfPageUp => self.step(-half),
            Action::PageDown => self.step(half * 2),
            Action::PageUp => self.step(-half * 2),
            Action::Top => {
                self.list().into_iter().for_each(|l| l.selected = 0);
                self.detail_scroll = 0;
            }
            Action::Bottom => self.step(isize::MAX),
            Action::Open => match self.screen {
                Screen::Overview => self.show(Screen::Hosts),
                Screen::Hosts if self.selected_host().is_some() => self.show(Screen::HostDetail),
                Screen::Sites if self.selected_site().is_some() => self.show(Screen::SiteDetail),
                _ => {}
            },
            Action::Sort => self.next_sort(),
            Action::InvertSort => self.invert_sort(),
            Action::Recheck => match self.target() {
                Some(target)
                    if self.rechecking(&target)
                        || self.outbox.contains(&Request::Recheck(target.clone())) =>
                {
                    self.status = Some(Notice::done(format!(
                        "already re-checking {}",
                        target.name()
                    )))
                }
                Some(target) => self.outbox.push(Request::Recheck(target)),
                None => self.status = Some(Notice::trouble("select a host or a site to re-check")),
            },
            Action::Edit => match self.target() {
                Some(target) => self.input = Input::Edit(target, String::new()),
                None => self.status = Some(Notice::trouble("select a host or a site to edit")),
            },
            Action::Export => self.export(),
        }
        Outcome::Continue
    }

    /// Writes the rows the list shows, in its filter and sort, to a CSV file; on the
    /// overview, asks the worker for the managers' report.
    fn export(&mut self) {
        let stem = |what: &str| {
            format!(
                "sixfive-{what}-{}",
                self.now.with_timezone(&self.zone).format("%Y%m%d-%H%M%S")
            )
        };
        let (what, csv) = match self.list_screen() {
            Screen::Hosts => ("hosts", crate::export::hosts(self)),
            Screen::Sites => ("sites", crate::export::sites(self)),
            Screen::Overview => {
                let ask = Ask::Report {
                    dir: self.export_dir.clone(),
                    stem: stem("report"),
                    require: self.require,
                    lang: self.report_lang,
                };
                self.outbox.push(Request::Store(ask));
                self.status = Some(Notice::done("writing the report…"));
                return;
            }
            _ => {
                self.status = Some(Notice::trouble(
                    "export works on the overview and the hosts and sites lists",
                ));
                return;
            }
        };
        let stem = stem(what);
        let rows = if what == "hosts" {
            self.hosts.rows.len()
        } else {
            self.sites.rows.len()
        };
        let saved = csv
            .and_then(|text| crate::export::save(&self.export_dir, &stem, "csv", text.as_bytes()));
        self.status = Some(match saved {
            Ok(path) => Notice::done(format!("exported {rows} {what} to {}", path.display())),
            Err(e) => Notice::trouble(format!("cannot export the {what}: {e}")),
        });
    }

    fn next_sort(&mut self) {
        match self.screen {
            Screen::Hosts => {
                let next = beside(&HostColumn::ORDER, self.host_sort.0, 1);
                self.host_sort = (next, next.worst_first_descending());
            }
            Screen::Sites => {
                let next = beside(&SiteColumn::ORDER, self.site_sort.0, 1);
                self.site_sort = (next, next.worst_first_descending());
            }
            _ => return,
        }
        self.refresh_keeping_selection();
    }

    fn invert_sort(&mut self) {
        match self.screen {
            Screen::Hosts => self.host_sort.1 = !self.host_sort.1,
            Screen::Sites => self.site_sort.1 = !self.site_sort.1,
            _ => return,
        }
        self.refresh_keeping_selection();
    }
}

/// `stage=in-progress`, `owner=Tran Binh`, `note=…`; `owner=` clears the owner.
fn parse_edit(line: &str) -> Result<(EditField, Option<String>), String> {
    const USAGE: &str = "edit: type stage=…, owner=… or note=… (empty clears)";
    let (field, value) = line.split_once('=').ok_or_else(|| USAGE.to_owned())?;
    let field = match field.trim() {
        "stage" => EditField::Stage,
        "owner" => EditField::Owner,
        "note" => EditField::Note,
        other => return Err(format!("cannot edit `{other}`: {USAGE}")),
    };
    let value = value.trim();
    if field == EditField::Stage {
        if value.is_empty() {
            return Err("a host always has a stage".into());
        }
        value.parse::<Stage>().map_err(|e| e.to_string())?;
    }
    Ok((field, (!value.is_empty()).then(|| value.to_owned())))
}

/// The item `by` places from `current` in `all`, going round.
fn beside<T: Copy + PartialEq>(all: &[T], current: T, by: isize) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0);
    all[(at as isize + by).rem_euclid(all.len() as isize) as usize]
}

/// `ordering` read ascending or descending.
fn directed(ordering: Ordering, descending: bool) -> Ordering {
    if descending {
        ordering.reverse()
    } else {
        ordering
    }
}

/// Known values in the order asked for, unknown ones last whichever way: no reading is
/// neither good nor bad.
fn known_first<K: PartialOrd>(a: Option<K>, b: Option<K>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => directed(x.partial_cmp(&y).unwrap_or(Ordering::Equal), descending),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The stages in the order a migration goes through them.
fn stage_rank(stage: Stage) -> u8 {
    match stage {
        Stage::Planned => 0,
        Stage::InProgress => 1,
        Stage::DualStack => 2,
        Stage::Ipv6Only => 3,
        Stage::Exempt => 4,
    }
}

/// An ungraded host sorts below BROKEN, as a level of its own: nobody has looked at it.
fn compare_hosts(a: &HostLine, b: &HostLine, column: HostColumn, descending: bool) -> Ordering {
    let ordering = match column {
        HostColumn::Fqdn => a.fqdn.cmp(&b.fqdn),
        HostColumn::Agency => a.agency.cmp(&b.agency),
        HostColumn::Level => {
            let level = |h: &HostLine| h.grade.as_ref().map(|g| g.level);
            level(a).cmp(&level(b))
        }
        HostColumn::Score => {
            let score = |h: &HostLine| h.grade.as_ref().map(|g| g.score);
            return known_first(score(a), score(b), descending);
        }
        HostColumn::Failing => a.failing.len().cmp(&b.failing.len()),
        HostColumn::Stage => stage_rank(a.stage).cmp(&stage_rank(b.stage)),
    };
    directed(ordering, descending)
}

fn compare_sites(a: &SiteLine, b: &SiteLine, column: SiteColumn, descending: bool) -> Ordering {
    let known = |value: fn(&SiteLine) -> Option<f64>| known_first(value(a), value(b), descending);
    match column {
        SiteColumn::State => {
            let state = |s: &SiteLine| s.latest.as_ref().map(|r| r.state);
            known_first(state(a), state(b), descending)
        }
        SiteColumn::Id => directed(a.id.cmp(&b.id), descending),
        SiteColumn::Rsrp => known(|s| s.latest.as_ref()?.radio.rsrp_dbm),
        SiteColumn::Sinr => known(|s| s.latest.as_ref()?.radio.sinr_db),
        SiteColumn::Tech => {
            let tech = |s: &SiteLine| s.latest.as_ref().and_then(|r| r.radio.technology.clone());
            known_first(tech(a), tech(b), descending)
        }
    }
}
