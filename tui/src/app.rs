//! The UI's state and what each key does to it. Nothing here waits: a new snapshot is
//! swapped in whole, and the lists recompute which rows they show, keeping the selected
//! host or site selected.

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sixfive_inventory::model::Level;
use sixfive_inventory::store::{Board, HostLine, SiteLine};

use crate::query::Query;
use crate::summary::{Summary, summarise};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Hosts,
    Sites,
    Help,
}

impl Screen {
    pub const TABS: [Screen; 3] = [Screen::Overview, Screen::Hosts, Screen::Sites];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Overview => "Overview",
            Screen::Hosts => "Hosts",
            Screen::Sites => "Sites",
            Screen::Help => "Help",
        }
    }
}

/// What the bottom line is taking: keys, or a line being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Keys,
    Filter(String),
    Command(String),
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
    /// Shows the `items` that `keep` keeps, sorted by `compare` (inverted when
    /// `descending`), the cursor on the one `selected` picks where it is still shown.
    fn show<T>(
        &mut self,
        items: &[T],
        keep: impl Fn(&T) -> bool,
        compare: impl Fn(&T, &T) -> Ordering,
        descending: bool,
        selected: Option<impl Fn(&T) -> bool>,
    ) {
        let mut rows: Vec<usize> = (0..items.len()).filter(|i| keep(&items[*i])).collect();
        rows.sort_by(|a, b| {
            let ordering = compare(&items[*a], &items[*b]);
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
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
    /// A message for the status line (a bad query, an unknown command).
    pub status: Option<String>,
    pub hosts: List,
    pub sites: List,
    pub host_sort: (HostColumn, bool),
    pub site_sort: (SiteColumn, bool),
    /// The level a host must reach to count as ready.
    pub require: Level,
    /// Rows a page holds, as last drawn (ctrl+u/d move half of it).
    pub page: usize,
    /// `g` pressed once, waiting for the second of `gg`.
    pending_g: bool,
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
            pending_g: false,
            now,
            zone: *chrono::Local::now().offset(),
        }
    }

    /// Swaps in a new snapshot, keeping each list's selected row by its key.
    pub fn set_board(&mut self, board: Arc<Board>, loaded_at: DateTime<Utc>) {
        let host = self.selected_host().map(|h| h.fqdn.clone());
        let site = self.selected_site().map(|s| s.id.clone());
        self.summary = summarise(&board, self.require, self.now.date_naive());
        self.board = board;
        self.loaded_at = Some(loaded_at);
        self.refresh(host, site);
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
            |a, b| compare_hosts(a, b, column),
            descending,
            host.map(|fqdn| move |h: &HostLine| h.fqdn == fqdn),
        );
        let (column, descending) = self.site_sort;
        self.sites.show(
            &board.sites,
            |s| self.query.site(s),
            |a, b| compare_sites(a, b, column),
            descending,
            site.map(|id| move |s: &SiteLine| s.id == id),
        );
    }

    fn refresh_keeping_selection(&mut self) {
        let host = self.selected_host().map(|h| h.fqdn.clone());
        let site = self.selected_site().map(|s| s.id.clone());
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

    /// A key while a filter or command line is being typed.
    fn typed_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => self.input = Input::Keys,
            KeyCode::Enter => match std::mem::replace(&mut self.input, Input::Keys) {
                Input::Filter(line) => self.apply_filter(&line),
                Input::Command(line) => self.command(&line),
                Input::Keys => {}
            },
            // Readline's kill-line: start the line afresh.
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                if let Input::Filter(line) | Input::Command(line) = &mut self.input {
                    line.clear();
                }
            }
            KeyCode::Backspace => {
                if let Input::Filter(line) | Input::Command(line) = &mut self.input {
                    line.pop();
                }
            }
            KeyCode::Char(c) => {
                if let Input::Filter(line) | Input::Command(line) = &mut self.input {
                    line.push(c);
                }
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
            Err(error) => self.status = Some(error.to_string()),
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
                if self.screen == Screen::Overview || self.screen == Screen::Help {
                    self.show(Screen::Hosts);
                }
            }
            (Some("agency" | "a"), None) => self.apply_filter(""),
            (Some("q" | "quit"), None) => self.status = Some("press q to quit".into()),
            _ => {
                self.status = Some(format!(
                    "unknown command `{line}`: try :hosts, :sites, :overview, :agency ID, :help"
                ))
            }
        }
    }

    fn show(&mut self, screen: Screen) {
        if screen != self.screen {
            self.previous = self.screen;
        }
        self.screen = screen;
        self.status = None;
    }

    fn list(&mut self) -> Option<&mut List> {
        match self.screen {
            Screen::Hosts => Some(&mut self.hosts),
            Screen::Sites => Some(&mut self.sites),
            Screen::Overview | Screen::Help => None,
        }
    }

    fn normal_key(&mut self, key: KeyEvent) -> Outcome {
        let g_before = std::mem::take(&mut self.pending_g);
        let half = isize::try_from((self.page / 2).max(1)).unwrap_or(1);
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('q') => return Outcome::Quit,
            KeyCode::Char('?') => {
                if self.screen == Screen::Help {
                    self.screen = self.previous;
                } else {
                    self.show(Screen::Help);
                }
            }
            KeyCode::Esc => {
                if self.screen == Screen::Help {
                    self.screen = self.previous;
                } else if !self.query.is_empty() {
                    self.apply_filter("");
                }
                self.status = None;
            }
            KeyCode::Tab => {
                let at = Screen::TABS
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                self.show(Screen::TABS[(at + 1) % Screen::TABS.len()]);
            }
            KeyCode::BackTab => {
                let at = Screen::TABS
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                self.show(Screen::TABS[(at + Screen::TABS.len() - 1) % Screen::TABS.len()]);
            }
            KeyCode::Char('1') => self.show(Screen::Overview),
            KeyCode::Char('2') => self.show(Screen::Hosts),
            KeyCode::Char('3') => self.show(Screen::Sites),
            KeyCode::Char('/') => self.input = Input::Filter(self.query.text().to_owned()),
            KeyCode::Char(':') => self.input = Input::Command(String::new()),
            KeyCode::Char('d') if control => self.list().into_iter().for_each(|l| l.step(half)),
            KeyCode::Char('u') if control => self.list().into_iter().for_each(|l| l.step(-half)),
            KeyCode::Char('j') | KeyCode::Down => self.list().into_iter().for_each(|l| l.step(1)),
            KeyCode::Char('k') | KeyCode::Up => self.list().into_iter().for_each(|l| l.step(-1)),
            KeyCode::PageDown => {
                let page = half * 2;
                self.list().into_iter().for_each(|l| l.step(page));
            }
            KeyCode::PageUp => {
                let page = half * 2;
                self.list().into_iter().for_each(|l| l.step(-page));
            }
            KeyCode::Char('g') if !g_before => self.pending_g = true,
            KeyCode::Char('g') | KeyCode::Home => {
                self.list().into_iter().for_each(|l| l.selected = 0);
            }
            KeyCode::Char('G') | KeyCode::End => {
                self.list().into_iter().for_each(|l| l.step(isize::MAX));
            }
            KeyCode::Enter if self.screen == Screen::Overview => self.show(Screen::Hosts),
            KeyCode::Char('s') => self.next_sort(),
            KeyCode::Char('S') => self.invert_sort(),
            _ => {}
        }
        Outcome::Continue
    }

    fn next_sort(&mut self) {
        match self.screen {
            Screen::Hosts => {
                let (column, _) = self.host_sort;
                let at = HostColumn::ORDER
                    .iter()
                    .position(|c| *c == column)
                    .unwrap_or(0);
                self.host_sort = (HostColumn::ORDER[(at + 1) % HostColumn::ORDER.len()], false);
            }
            Screen::Sites => {
                let (column, _) = self.site_sort;
                let at = SiteColumn::ORDER
                    .iter()
                    .position(|c| *c == column)
                    .unwrap_or(0);
                self.site_sort = (SiteColumn::ORDER[(at + 1) % SiteColumn::ORDER.len()], false);
            }
            Screen::Overview | Screen::Help => return,
        }
        self.refresh_keeping_selection();
    }

    fn invert_sort(&mut self) {
        match self.screen {
            Screen::Hosts => self.host_sort.1 = !self.host_sort.1,
            Screen::Sites => self.site_sort.1 = !self.site_sort.1,
            Screen::Overview | Screen::Help => return,
        }
        self.refresh_keeping_selection();
    }
}

/// Ungraded hosts sort before BROKEN: nobody has looked at them yet.
fn compare_hosts(a: &HostLine, b: &HostLine, column: HostColumn) -> Ordering {
    let level = |h: &HostLine| h.grade.as_ref().map(|g| g.level);
    let by = match column {
        HostColumn::Fqdn => Ordering::Equal,
        HostColumn::Agency => a.agency.cmp(&b.agency),
        HostColumn::Level => level(a).cmp(&level(b)),
        HostColumn::Score => {
            let score = |h: &HostLine| h.grade.as_ref().map(|g| g.score);
            score(a).cmp(&score(b))
        }
        HostColumn::Failing => b.failing.len().cmp(&a.failing.len()),
        HostColumn::Stage => a.stage.as_str().cmp(b.stage.as_str()),
    };
    by.then_with(|| a.fqdn.cmp(&b.fqdn))
}

/// Unknown radio values sort last whichever way, as no reading is neither good nor bad.
fn compare_sites(a: &SiteLine, b: &SiteLine, column: SiteColumn) -> Ordering {
    let state = |s: &SiteLine| s.latest.as_ref().map(|r| r.state);
    let number = |value: fn(&SiteLine) -> Option<f64>| match (value(a), value(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    let by = match column {
        SiteColumn::State => state(a).cmp(&state(b)),
        SiteColumn::Id => Ordering::Equal,
        SiteColumn::Rsrp => number(|s| s.latest.as_ref()?.radio.rsrp_dbm),
        SiteColumn::Sinr => number(|s| s.latest.as_ref()?.radio.sinr_db),
        SiteColumn::Tech => {
            let tech = |s: &SiteLine| s.latest.as_ref().and_then(|r| r.radio.technology.clone());
            tech(a).cmp(&tech(b))
        }
    };
    by.then_with(|| a.id.cmp(&b.id))
}
