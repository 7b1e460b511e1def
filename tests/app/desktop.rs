//! A desktop for the app to live in, on a private session bus: the tray host a panel runs (a
//! StatusNotifierWatcher, which tray icons register with) and a notification server (what shows
//! desktop notifications). The tests read the tray's menu and click its items through the same
//! D-Bus calls a panel makes (the dbusmenu protocol), and read the notifications the app sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::message::Header;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zbus::Connection;

const PATIENCE: Duration = Duration::from_secs(30);

/// Where tray icons register: their bus name and object path.
#[derive(Default, Clone)]
struct Watcher {
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(&self, service: &str, #[zbus(header)] h: Header<'_>) {
        let sender = h.sender().map(|s| s.to_string()).unwrap_or_default();
        // An item registers with its object path (the sender is its bus name) or its bus name.
        let (name, path) = if service.starts_with('/') {
            (sender, service.to_string())
        } else {
            (service.to_string(), "/StatusNotifierItem".to_string())
        };
        self.items.lock().unwrap().push((name, path));
    }

    async fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    async fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .map(|(n, p)| format!("{n}{p}"))
            .collect()
    }

    #[zbus(property)]
    async fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    async fn protocol_version(&self) -> i32 {
        0
    }
}

/// A notification server that remembers what it was asked to show.
#[derive(Default, Clone)]
struct Notifications {
    shown: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        _app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push((summary.to_string(), body.to_string()));
        shown.len() as u32
    }

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "test-desktop".into(),
            "strata".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    async fn close_notification(&self, _id: u32) {}
}

/// A dbusmenu node: id, properties, children (each a node in a variant).
type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// One item of a tray menu, as a panel sees it.
#[derive(Debug, Clone)]
pub struct MenuItem {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
}

pub struct Desktop {
    daemon: Child,
    pub address: String,
    conn: Connection,
    watcher: Watcher,
    notifications: Notifications,
}

impl Desktop {
    /// Starts a private session bus with a tray host and a notification server on it.
    pub async fn start() -> Desktop {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the bus address");
        let address = line.trim().to_string();
        let watcher = Watcher::default();
        let notifications = Notifications::default();
        let conn = zbus::connection::Builder::address(address.as_str())
            .unwrap()
            .name("org.kde.StatusNotifierWatcher")
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/StatusNotifierWatcher", watcher.clone())
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", notifications.clone())
            .unwrap()
            .build()
            .await
            .expect("a connection to the test bus");
        Desktop {
            daemon,
            address,
            conn,
            watcher,
            notifications,
        }
    }

    /// The app's tray icon, once it registered: (bus name, object path).
    pub async fn tray(&self) -> (String, String) {
        let start = Instant::now();
        loop {
            if let Some(item) = self.watcher.items.lock().unwrap().first().cloned() {
                return item;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no tray icon registered with the panel"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn menu_path(&self) -> (String, OwnedObjectPath) {
        let (name, path) = self.tray().await;
        let item = zbus::Proxy::new(
            &self.conn,
            name.as_str(),
            path.as_str(),
            "org.kde.StatusNotifierItem",
        )
        .await
        .unwrap();
        let menu: OwnedObjectPath = item.get_property("Menu").await.expect("the tray's menu");
        (name, menu)
    }

    /// The tray menu's items, top level, as a panel would draw them.
    pub async fn menu(&self) -> Vec<MenuItem> {
        let (name, menu) = self.menu_path().await;
        let reply = self
            .conn
            .call_method(
                Some(name.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .await
            .expect("the tray menu's layout");
        let (_rev, (_id, _props, children)): (u32, Node) =
            reply.body().deserialize().expect("a dbusmenu layout");
        children
            .into_iter()
            .filter_map(|c| {
                let (id, props, _): Node = c.try_into().ok()?;
                let label = props
                    .get("label")
                    .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
                    .unwrap_or_default()
                    .replace('_', "");
                let enabled = props
                    .get("enabled")
                    .and_then(|v| bool::try_from(&**v).ok())
                    .unwrap_or(true);
                Some(MenuItem { id, label, enabled })
            })
            .collect()
    }

    /// Waits until an item's label contains `text`.
    pub async fn menu_item(&self, text: &str) -> MenuItem {
        let start = Instant::now();
        loop {
            let items = self.menu().await;
            if let Some(i) = items.iter().find(|i| i.label.contains(text)) {
                return i.clone();
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the tray menu never showed '{text}': {items:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Clicks a tray menu item, as the panel does.
    pub async fn click(&self, text: &str) {
        let item = self.menu_item(text).await;
        let (name, menu) = self.menu_path().await;
        self.conn
            .call_method(
                Some(name.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(item.id, "clicked", Value::I32(0), 0u32),
            )
            .await
            .unwrap_or_else(|e| panic!("click '{text}' in the tray menu: {e}"));
    }

    /// Waits for a desktop notification whose title contains `title`; its body.
    pub async fn notification(&self, title: &str) -> String {
        let start = Instant::now();
        loop {
            let shown = self.notifications.shown.lock().unwrap().clone();
            if let Some((_, body)) = shown.iter().find(|(t, _)| t.contains(title)) {
                return body.clone();
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no notification '{title}' (shown: {shown:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the tray's owner is still on the bus (the app still runs).
    pub async fn tray_alive(&self) -> bool {
        let (name, _) = self.tray().await;
        let dbus = zbus::fdo::DBusProxy::new(&self.conn).await.unwrap();
        match zbus::names::BusName::try_from(name.as_str()) {
            Ok(n) => dbus.name_has_owner(n).await.unwrap_or(false),
            Err(_) => false,
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Asks the app's window to close as a window manager does when its close button is clicked
/// (WM_DELETE_WINDOW), on the X display the test runs on. WebDriver's "close window" instead
/// ends the app, which is not what a user's click does.
pub fn close_like_a_user(title_prefix: &str) {
    use std::ffi::{CStr, CString};
    use std::ptr;
    use x11::xlib;

    // SAFETY: plain Xlib calls on a display this function opens and closes; every pointer
    // Xlib returns is checked and freed with XFree.
    unsafe {
        let dpy = xlib::XOpenDisplay(ptr::null());
        assert!(!dpy.is_null(), "no X display (run under xvfb-run)");
        let mut todo = vec![xlib::XDefaultRootWindow(dpy)];
        let mut found = Vec::new();
        while let Some(w) = todo.pop() {
            let mut name: *mut std::os::raw::c_char = ptr::null_mut();
            if xlib::XFetchName(dpy, w, &mut name) != 0 && !name.is_null() {
                if CStr::from_ptr(name)
                    .to_string_lossy()
                    .starts_with(title_prefix)
                {
                    found.push(w);
                }
                xlib::XFree(name.cast());
            }
            let (mut root, mut parent) = (0, 0);
            let mut children: *mut xlib::Window = ptr::null_mut();
            let mut n = 0u32;
            if xlib::XQueryTree(dpy, w, &mut root, &mut parent, &mut children, &mut n) != 0
                && !children.is_null()
            {
                todo.extend(std::slice::from_raw_parts(children, n as usize));
                xlib::XFree(children.cast());
            }
        }
        assert!(!found.is_empty(), "no window titled '{title_prefix}…'");
        let protocols = CString::new("WM_PROTOCOLS").unwrap();
        let delete = CString::new("WM_DELETE_WINDOW").unwrap();
        let wm_protocols = xlib::XInternAtom(dpy, protocols.as_ptr(), xlib::False);
        let wm_delete = xlib::XInternAtom(dpy, delete.as_ptr(), xlib::False);
        for w in found {
            let mut data = xlib::ClientMessageData::new();
            data.set_long(0, wm_delete as std::os::raw::c_long);
            data.set_long(1, xlib::CurrentTime as std::os::raw::c_long);
            let mut event = xlib::XEvent {
                client_message: xlib::XClientMessageEvent {
                    type_: xlib::ClientMessage,
                    serial: 0,
                    send_event: xlib::True,
                    display: dpy,
                    window: w,
                    message_type: wm_protocols,
                    format: 32,
                    data,
                },
            };
            xlib::XSendEvent(dpy, w, xlib::False, xlib::NoEventMask, &mut event);
        }
        xlib::XFlush(dpy);
        xlib::XCloseDisplay(dpy);
    }
}
