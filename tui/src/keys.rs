//! What each key does: actions, their default keys (ux.md's), and the bindings a config
//! file's `[bindings]` table overrides, as trippy's do.

use std::collections::HashMap;
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Back,
    NextScreen,
    PreviousScreen,
    Overview,
    Hosts,
    Sites,
    Down,
    Up,
    HalfPageDown,
    HalfPageUp,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Filter,
    Command,
    Sort,
    InvertSort,
    Recheck,
    Edit,
    Export,
}

impl Action {
    /// Each action with its name in a config file and its default keys.
    const ALL: [(Action, &'static str, &'static [&'static str]); 24] = [
        (Action::Quit, "quit", &["q", "ctrl+c"]),
        (Action::Help, "help", &["?"]),
        (Action::Back, "back", &["esc"]),
        (Action::NextScreen, "next-screen", &["tab"]),
        (Action::PreviousScreen, "previous-screen", &["backtab"]),
        (Action::Overview, "overview", &["1"]),
        (Action::Hosts, "hosts", &["2"]),
        (Action::Sites, "sites", &["3"]),
        (Action::Down, "down", &["j", "down"]),
        (Action::Up, "up", &["k", "up"]),
        (Action::HalfPageDown, "half-page-down", &["ctrl+d"]),
        (Action::HalfPageUp, "half-page-up", &["ctrl+u"]),
        (Action::PageDown, "page-down", &["pagedown"]),
        (Action::PageUp, "page-up", &["pageup"]),
        (Action::Top, "top", &["gg", "home"]),
        (Action::Bottom, "bottom", &["G", "end"]),
        (Action::Open, "open", &["enter"]),
        (Action::Filter, "filter", &["/"]),
        (Action::Command, "command", &[":"]),
        (Action::Sort, "sort", &["s"]),
        (Action::InvertSort, "invert-sort", &["S"]),
        (Action::Recheck, "recheck", &["r"]),
        (Action::Edit, "edit", &["e"]),
        (Action::Export, "export", &["x"]),
    ];

    pub fn name(self) -> &'static str {
        Action::ALL
            .iter()
            .find(|(action, ..)| *action == self)
            .map_or("?", |(_, name, _)| name)
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Action::ALL.iter().map(|(_, name, _)| *name)
    }

    pub fn named(name: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(action, ..)| *action)
    }
}

/// One key as a binding names it: a key with its modifiers, or a character pressed twice
/// (`gg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Press(KeyCode, KeyModifiers),
    Twice(char),
}

impl Key {
    /// `q`, `G`, `?`, `ctrl+d`, `alt+x`, `enter`, `esc`, `tab`, `backtab`, `up`, `down`,
    /// `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `space`, `f1`…`f12`, `gg`.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(after) = rest.strip_prefix("ctrl+") {
                modifiers |= KeyModifiers::CONTROL;
                rest = after;
            } else if let Some(after) = rest.strip_prefix("alt+") {
                modifiers |= KeyModifiers::ALT;
                rest = after;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next(), chars.next()) {
            (Some(c), None, _) => KeyCode::Char(c),
            (Some(a), Some(b), None) if a == b && modifiers.is_empty() => {
                return Ok(Key::Twice(a));
            }
            _ => match rest {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "`{text}` is not a key: use a character, ctrl+X, alt+X, a doubled character (gg), or one of enter esc tab backtab up down left right pageup pagedown home end space backspace f1-f12"
                    ));
                }
            },
        };
        Ok(Key::Press(code, modifiers))
    }

    /// The key a terminal event is, as bindings are looked up: shift is part of the
    /// character (`G`), so it is left out.
    fn of(event: KeyEvent) -> Key {
        Key::Press(event.code, event.modifiers - KeyModifiers::SHIFT)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Twice(c) => write!(f, "{c}{c}"),
            Key::Press(code, modifiers) => {
                if modifiers.contains(KeyModifiers::CONTROL) {
                    f.write_str("ctrl+")?;
                }
                if modifiers.contains(KeyModifiers::ALT) {
                    f.write_str("alt+")?;
                }
                match code {
                    KeyCode::Char(' ') => f.write_str("space"),
                    KeyCode::Char(c) => write!(f, "{c}"),
                    KeyCode::F(n) => write!(f, "f{n}"),
                    other => write!(f, "{}", other.to_string().to_lowercase().replace(' ', "")),
                }
            }
        }
    }
}

/// Keys to actions. A doubled character waits for its second press.
#[derive(Debug, Clone, PartialEq)]
pub struct Bindings {
    keys: HashMap<Key, Action>,
}

impl Default for Bindings {
    fn default() -> Self {
        let keys = Action::ALL
            .iter()
            .flat_map(|(action, _, keys)| {
                keys.iter()
                    .map(|k| (Key::parse(k).expect("a default key parses"), *action))
            })
            .collect();
        Bindings { keys }
    }
}

/// What a key press comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressed {
    Action(Action),
    /// The first of a doubled key: wait for the second.
    Half(char),
    Nothing,
}

impl Bindings {
    /// Binds `action` to `keys` alone, unbinding its defaults and taking the keys from
    /// whatever action had them.
    pub fn bind(&mut self, action: Action, keys: &[Key]) {
        self.keys
            .retain(|key, bound| *bound != action && !keys.contains(key));
        for key in keys {
            self.keys.insert(*key, action);
        }
    }

    /// The action of `event`, given the character pressed just before when it was the
    /// first half of a doubled key.
    pub fn press(&self, event: KeyEvent, half: Option<char>) -> Pressed {
        if let (Some(first), KeyCode::Char(c)) = (half, event.code)
            && first == c
            && let Some(action) = self.keys.get(&Key::Twice(c))
        {
            return Pressed::Action(*action);
        }
        if let Some(action) = self.keys.get(&Key::of(event)) {
            return Pressed::Action(*action);
        }
        match event.code {
            KeyCode::Char(c) if self.keys.contains_key(&Key::Twice(c)) => Pressed::Half(c),
            _ => Pressed::Nothing,
        }
    }

    /// The keys of `action` as the help and the footer name them, defaults first.
    pub fn keys_of(&self, action: Action) -> String {
        let mut keys: Vec<String> = self
            .keys
            .iter()
            .filter(|(_, bound)| **bound == action)
            .map(|(key, _)| key.to_string())
            .collect();
        let defaults = Action::ALL
            .iter()
            .find(|(a, ..)| *a == action)
            .map_or(&[][..], |(_, _, keys)| *keys);
        keys.sort_by_key(|k| {
            (
                defaults.iter().position(|d| d == k).unwrap_or(usize::MAX),
                k.clone(),
            )
        });
        keys.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_parse_as_a_config_file_names_them_and_print_back() {
        for text in [
            "q", "G", "?", "ctrl+d", "alt+x", "enter", "pagedown", "gg", "f5", "space",
        ] {
            assert_eq!(Key::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Key::parse("ctrl+c").unwrap(),
            Key::Press(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        let error = Key::parse("hyper+x").unwrap_err();
        assert!(error.contains("`hyper+x` is not a key"), "{error}");
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn the_defaults_are_ux_mds_keys() {
        let bindings = Bindings::default();
        assert_eq!(
            bindings.press(press(KeyCode::Char('q')), None),
            Pressed::Action(Action::Quit)
        );
        // Terminals report G with shift; the binding names the character alone.
        assert_eq!(
            bindings.press(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT), None),
            Pressed::Action(Action::Bottom)
        );
        assert_eq!(
            bindings.press(press(KeyCode::Char('g')), None),
            Pressed::Half('g')
        );
        assert_eq!(
            bindings.press(press(KeyCode::Char('g')), Some('g')),
            Pressed::Action(Action::Top)
        );
        // A control key is not its plain letter.
        assert_eq!(
            bindings.press(
                KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
                None
            ),
            Pressed::Action(Action::HalfPageDown)
        );
        assert_eq!(
            bindings.press(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT), None),
            Pressed::Nothing
        );
        assert_eq!(bindings.keys_of(Action::Quit), "q ctrl+c");
        assert!(Action::names().all(|n| Action::named(n).is_some_and(|a| a.name() == n)));
    }

    #[test]
    fn a_binding_replaces_the_actions_keys_and_takes_its_keys_from_others() {
        let mut bindings = Bindings::default();
        bindings.bind(Action::Recheck, &[Key::parse("R").unwrap()]);
        bindings.bind(Action::Down, &[Key::parse("s").unwrap()]);
        assert_eq!(
            bindings.press(press(KeyCode::Char('r')), None),
            Pressed::Nothing
        );
        assert_eq!(
            bindings.press(press(KeyCode::Char('R')), None),
            Pressed::Action(Action::Recheck)
        );
        assert_eq!(
            bindings.press(press(KeyCode::Char('s')), None),
            Pressed::Action(Action::Down)
        );
        assert_eq!(bindings.keys_of(Action::Sort), "");
        assert_eq!(
            bindings.press(press(KeyCode::Char('j')), None),
            Pressed::Nothing
        );
    }
}
