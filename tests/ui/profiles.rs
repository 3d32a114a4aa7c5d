//! Profiles and regions (issue 13, point 9): `:profile` and `:region` with completion and a
//! picker, the switch as an effect whose answer clears the old account's data, the status bar
//! naming profile, account and region at 80 columns, and the runtime swapping the pipeline for
//! the new account's without stopping the UI.

use crossterm::event::KeyCode;
use std::sync::Arc;
use tokio::sync::mpsc;
use watchband::app::fixture;
use watchband::app::runtime::{Connected, Inputs, Outputs, Screen, Switcher, event_loop};
use watchband::app::state::{AccountChoice, AccountField, AccountInfo, AppState, Modal};
use watchband::app::{Effect, Input, complete, update};
use watchband::cloud::Identity;
use watchband::pipeline::Event;

use super::screens::screen;
use super::update::{key, keys};

/// The fixture as an AWS account watched with profile `dev` (the fixture is the demo's).
fn on_aws() -> AppState {
    let mut s = fixture::state();
    s.demo = None;
    s.cloud_kind = "aws".into();
    s.profile = Some("dev".into());
    s.region = Some("eu-west-1".into());
    s.profiles = vec![
        "default".into(),
        "dev".into(),
        "prod".into(),
        "prod-eu".into(),
    ];
    s
}

fn command(s: &mut AppState, line: &str) -> Vec<Effect> {
    keys(s, ":");
    keys(s, line);
    key(s, KeyCode::Enter)
}

fn switched(profile: &str, region: &str, read_only: bool) -> AccountInfo {
    AccountInfo {
        profile: Some(profile.into()),
        region: Some(region.into()),
        read_only,
        theme: None,
        profiles: Vec::new(),
        warning: None,
    }
}

#[test]
fn tab_completes_profiles_and_regions() {
    let profiles: Vec<String> = vec!["default".into(), "prod".into(), "prod-eu".into()];
    assert_eq!(complete("prof", &profiles).0, "profile ");
    assert_eq!(complete("reg", &profiles).0, "region ");
    let (line, candidates) = complete("profile pr", &profiles);
    assert_eq!(line, "profile prod");
    assert_eq!(candidates, vec!["prod", "prod-eu"]);
    assert_eq!(complete("profile d", &profiles).0, "profile default");
    assert_eq!(
        complete("region eu-w", &profiles).1,
        vec!["eu-west-1", "eu-west-2", "eu-west-3"]
    );
    assert_eq!(
        complete("region ap-southeast-2", &profiles).0,
        "region ap-southeast-2"
    );
    // Through the command line's Tab.
    let mut s = on_aws();
    keys(&mut s, ":profile pro");
    key(&mut s, KeyCode::Tab);
    let Some(Modal::Command { input, .. }) = &s.modal else {
        panic!("{:?}", s.modal)
    };
    assert_eq!(input, "profile prod");
    assert!(s.message.as_ref().unwrap().text.contains("prod-eu"));
}

#[test]
fn profile_and_region_ask_the_runtime_to_switch_once() {
    let mut s = on_aws();
    let effects = command(&mut s, "profile prod");
    assert_eq!(
        effects,
        vec![Effect::SwitchAccount(AccountChoice::Profile("prod".into()))]
    );
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .text
            .contains("switching to profile prod")
    );
    // A second switch while the first is under way is refused, not queued.
    let effects = command(&mut s, "region us-east-2");
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s.message.as_ref().unwrap().error);
    update(&mut s, Input::AccountSwitched(Err("no".into())));
    let effects = command(&mut s, "region us-east-2");
    assert_eq!(
        effects,
        vec![Effect::SwitchAccount(AccountChoice::Region(
            "us-east-2".into()
        ))]
    );
    // Not a region name (the configuration file's check): refused, naming what was typed and
    // how one is written. A region ends in its number, so `eu-west` and `eu-west-x` are not.
    for bad in ["Ireland", "eu-west", "eu-west-x"] {
        let mut s = on_aws();
        assert!(
            command(&mut s, &format!("region {bad}")).is_empty(),
            "{bad}"
        );
        let message = s.message.as_ref().unwrap();
        assert!(message.error, "{bad}");
        assert!(
            message.text.contains(&format!("{bad:?}")),
            "{}",
            message.text
        );
        assert!(message.text.contains("eu-west-1"), "{}", message.text);
        assert!(message.text.contains(":region alone"), "{}", message.text);
    }
}

#[test]
fn without_a_name_a_picker_lists_them() {
    let mut s = on_aws();
    assert!(command(&mut s, "profile").is_empty());
    assert!(matches!(
        s.modal,
        Some(Modal::AccountPicker {
            field: AccountField::Profile,
            ..
        })
    ));
    let text = screen(&s, 80, 24);
    assert!(
        text.contains("● dev"),
        "the current profile is marked:\n{text}"
    );
    assert!(text.contains("prod-eu"), "{text}");
    // Typing narrows, arrows move, Enter switches.
    keys(&mut s, "prod");
    key(&mut s, KeyCode::Down);
    let effects = key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::SwitchAccount(AccountChoice::Profile(
            "prod-eu".into()
        ))]
    );
    assert!(s.modal.is_none());
    // Esc leaves the account as it is.
    let mut s = on_aws();
    command(&mut s, "region");
    keys(&mut s, "sa-");
    let text = screen(&s, 80, 24);
    assert!(text.contains("sa-east-1"), "{text}");
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn the_demo_explains_it_has_one_account_and_region() {
    let mut s = fixture::state();
    for line in ["profile prod", "region eu-west-2", "profile"] {
        let effects = command(&mut s, line);
        assert!(effects.is_empty(), "{line}: {effects:?}");
        let m = s.message.clone().unwrap();
        assert!(
            m.error && m.text.contains("one simulated account in one region"),
            "{m:?}"
        );
        assert!(s.modal.is_none());
    }
}

#[test]
fn a_switch_clears_the_old_account_and_keeps_read_only() {
    let mut s = on_aws();
    s.read_only = true;
    assert!(!s.volumes.is_empty() && !s.alarms.is_empty() && !s.events.is_empty());
    command(&mut s, "profile prod");
    // A dialog about the old account's alarm is open when the switch lands: it goes.
    s.modal = Some(Modal::Acknowledge {
        alarm_name: s.alarms[0].name.clone(),
        note: String::new(),
        snooze: String::new(),
        on_snooze: false,
    });
    // Read-only from the flag comes back as read-only from the runtime (it knows the flag).
    update(
        &mut s,
        Input::AccountSwitched(Ok(switched("prod", "eu-central-1", true))),
    );
    assert!(s.volumes.is_empty() && s.alarms.is_empty() && s.shards.is_empty());
    assert!(s.identity.is_none() && s.health.is_empty() && s.switching.is_none());
    assert!(s.modal.is_none(), "{:?}", s.modal);
    assert_eq!(s.profile.as_deref(), Some("prod"));
    assert!(s.read_only);
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .text
            .contains("now watching profile prod in eu-central-1")
    );
    // The UI keeps running and the new account's events come in.
    update(
        &mut s,
        Input::Event(Event::Identity(Identity {
            account: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/Ops/bob".into(),
            region: "eu-central-1".into(),
        })),
    );
    key(&mut s, KeyCode::Esc);
    let text = screen(&s, 80, 24);
    assert!(text.contains("[read-only]"), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("prod@210987654321 eu-central-1"),
        "{text}"
    );
}

#[test]
fn a_failed_switch_says_why_in_one_line_and_keeps_the_account() {
    let mut s = on_aws();
    let volumes = s.volumes.len();
    command(&mut s, "profile nope");
    update(
        &mut s,
        Input::AccountSwitched(Err(
            "no profile `nope` in the shared AWS config or credentials file".into(),
        )),
    );
    assert_eq!(s.volumes.len(), volumes);
    assert_eq!(s.profile.as_deref(), Some("dev"));
    let m = s.message.clone().unwrap();
    assert!(m.error && !m.text.contains('\n'), "{m:?}");
    let text = screen(&s, 80, 24);
    assert!(text.contains("no profile `nope`"), "{text}");
}

#[test]
fn the_status_bar_names_profile_account_and_region_at_80_columns() {
    let s = on_aws();
    for w in [80u16, 100, 160] {
        let text = screen(&s, w, 24);
        let bar = text.lines().nth(23).unwrap();
        assert!(bar.contains("dev@123456789012 eu-west-1"), "{w}: {bar}");
        let bar = bar.trim_end();
        assert!(
            bar.ends_with(&s.now.format("%H:%M").to_string()) || bar.ends_with("UTC"),
            "the clock is whole at {w}: {bar}"
        );
    }
    // The caller's role gives way first; at full width it is there in full.
    let wide = screen(&s, 200, 24);
    assert!(
        wide.lines()
            .nth(23)
            .unwrap()
            .contains("assumed-role/Operator/alice"),
        "{wide}"
    );
    // A long profile name and a long region still leave the clock whole at the minimum width.
    let mut long = on_aws();
    long.profile = Some("platform-engineering-production-admin".into());
    long.identity.as_mut().unwrap().region = "ap-southeast-2".into();
    let text = screen(&long, 64, 24);
    let bar = text.lines().nth(23).unwrap().trim_end();
    assert!(bar.contains("@123456789012 ap-southeast-2"), "{bar}");
    assert!(bar.ends_with(&s.now.format("%H:%M").to_string()), "{bar}");
    // Before the identity is known: the profile and the region it was opened in.
    let mut s = on_aws();
    s.identity = None;
    let text = screen(&s, 80, 24);
    assert!(
        text.lines().nth(23).unwrap().contains("dev@? eu-west-1"),
        "{text}"
    );
}

/// Opens a "new account" whose pipeline is a channel the test feeds.
struct FakeSwitcher {
    events: std::sync::Mutex<Option<mpsc::Receiver<Event>>>,
}

#[async_trait::async_trait]
impl Switcher for FakeSwitcher {
    async fn open(&self, choice: AccountChoice) -> Result<Connected, String> {
        let AccountChoice::Region(region) = choice else {
            return Err("no profile `x`".into());
        };
        let (commands, _) = mpsc::channel(1);
        let (_, ticks) = mpsc::channel(1);
        Ok(Connected {
            info: switched("dev", &region, false),
            cloud: watchband::cloud::sim::SimCloud::new(Default::default()),
            events: self.events.lock().unwrap().take().unwrap(),
            commands,
            ticks,
        })
    }
}

struct NoScreen;
impl Screen for NoScreen {
    fn draw(&mut self, _: &AppState) -> std::io::Result<()> {
        Ok(())
    }
    fn write_raw(&mut self, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn size(&self) -> std::io::Result<ratatui::layout::Size> {
        Ok(ratatui::layout::Size::new(120, 40))
    }
}

#[tokio::test]
async fn the_runtime_swaps_in_the_new_account_s_pipeline() {
    let mut s = on_aws();
    let (terminal_tx, terminal) = mpsc::channel(8);
    let (old_tx, pipeline) = mpsc::channel(8);
    let (_ticks_tx, ticks) = mpsc::channel(1);
    let (commands, _commands_rx) = mpsc::channel(8);
    let (new_tx, new_events) = mpsc::channel(8);
    let switcher = Arc::new(FakeSwitcher {
        events: std::sync::Mutex::new(Some(new_events)),
    });
    let driver = tokio::spawn(async move {
        use crossterm::event::{KeyEvent, KeyModifiers};
        for c in ":region us-west-2".chars() {
            let k = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            terminal_tx.send(Input::Key(k)).await.unwrap();
        }
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        terminal_tx.send(Input::Key(enter)).await.unwrap();
        // The new account's identity arrives on the new pipeline; the old one is let go.
        new_tx
            .send(Event::Identity(Identity {
                account: "555555555555".into(),
                arn: "arn:aws:iam::555555555555:user/op".into(),
                region: "us-west-2".into(),
            }))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            old_tx.is_closed(),
            "the old pipeline's receiver was dropped"
        );
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        terminal_tx.send(Input::Key(q)).await.unwrap();
    });
    let inputs = Inputs {
        terminal,
        pipeline,
        ticks,
    };
    let outputs = Outputs {
        commands,
        cloud: None,
        switcher: Some(switcher),
    };
    event_loop(&mut NoScreen, &mut s, inputs, outputs)
        .await
        .unwrap();
    driver.await.unwrap();
    assert_eq!(s.identity.as_ref().unwrap().account, "555555555555");
    assert_eq!(s.region.as_deref(), Some("us-west-2"));
    assert!(s.volumes.is_empty(), "the old account's volumes are gone");
}
