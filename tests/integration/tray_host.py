#!/usr/bin/python3
"""tray_host.py — stint-tray seen from the tray host's side of the session D-Bus.

    dbus-run-session -- tray_host.py STINTD STINTCTL STINT-TRAY ICONS-DIR [STINT-COLLECTOR]

Plays the desktop: owns org.kde.StatusNotifierWatcher, receives stint-tray's registration, and
reads the item (Status, IconName, ToolTip) and its dbusmenu layout over D-Bus, as KDE's or
waybar's tray does. Against a real stintd (JSONL source, real journal, real control socket):
  - the icon follows the agent: recording with the current app;
  - the menu's Private mode item, clicked over D-Bus (com.canonical.dbusmenu.Event), turns
    private mode on: `stintctl status` says so, and an event fed afterwards leaves only a
    private record (no app, no title) in the journal; a click on the icon (Activate) turns it
    off again;
  - Today's report writes the status text and runs the opener given with --report-open;
  - stopping stintd changes the icon to stint-stopped within 1 s (STINT_TRAY_ICON_LIMIT_S) and
    the menu then offers only Quit; a click on the hidden Private item does nothing;
  - restarting stintd brings the icon back without anything polling;
  - with a server nobody answers, the icon says offline, with the records waiting and since
    when, and the menu offers Send now;
  - given STINT-COLLECTOR, with a token it refuses (401): the icon says blocked, the item's
    Status is NeedsAttention and the tooltip quotes the sender's status line;
  - a tray host that appears after stint-tray gets its registration too;
  - as root: a socket another uid (nobody) listens on gets nothing from a second stint-tray
    (SO_PEERCRED, checked before any byte is sent), whose icon says "permission denied";
  - Quit tray ends stint-tray with status 0.
Exit 77 (a ctest skip) when python3-dbus or python3-gi is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import dbus
    import dbus.service
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib
except ImportError as ex:
    print("SKIP: %s (Debian: python3-dbus python3-gi)" % ex)
    raise SystemExit(77)

ICON_LIMIT = float(os.environ.get("STINT_TRAY_ICON_LIMIT_S", "1"))
WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
checks = 0


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def pump(seconds):
    ctx = GLib.MainContext.default()
    end = time.time() + seconds
    while time.time() < end:
        if not ctx.iteration(False):
            time.sleep(0.005)


def wait_for(pred, what, timeout=20):
    ctx = GLib.MainContext.default()
    end = time.time() + timeout
    while time.time() < end:
        while ctx.iteration(False):
            pass
        if pred():
            return
        time.sleep(0.01)
    fail("timed out waiting for " + what)


class Watcher(dbus.service.Object):
    """The host's half: org.kde.StatusNotifierWatcher, keeping what registers."""

    def __init__(self, bus):
        self.items = []
        dbus.service.Object.__init__(self, bus, "/StatusNotifierWatcher")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        self.items.append((str(service), str(sender)))

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass


class Item:
    def __init__(self, bus, service):
        self.obj = bus.get_object(service, "/StatusNotifierItem")
        self.props = dbus.Interface(self.obj, "org.freedesktop.DBus.Properties")
        menu_path = self.props.Get(ITEM_IFACE, "Menu")
        self.menu = dbus.Interface(bus.get_object(service, menu_path), MENU_IFACE)
        self.item = dbus.Interface(self.obj, ITEM_IFACE)
        self.signals = []
        for sig in ("NewIcon", "NewToolTip", "NewStatus"):
            bus.add_signal_receiver(lambda *a, s=sig: self.signals.append((s, time.time())),
                                    signal_name=sig, dbus_interface=ITEM_IFACE)

    def get(self, name):
        return self.props.Get(ITEM_IFACE, name)

    def icon(self):
        return str(self.get("IconName"))

    def tooltip(self):
        icon, pixmaps, title, text = self.get("ToolTip")
        return str(title), str(text)

    def layout(self):
        rev, (root_id, root_props, children) = self.menu.GetLayout(0, -1, dbus.Array([], "s"))
        items = {}
        for c in children:
            cid, props, sub = c
            items[int(cid)] = {str(k): v for k, v in props.items()}
        return int(rev), items

    def find(self, label):
        for cid, props in self.layout()[1].items():
            if str(props.get("label", "")).replace("_", "") == label:
                return cid, props
        return None, None

    def click(self, cid):
        self.menu.Event(dbus.Int32(cid), "clicked", dbus.Int32(0, variant_level=1),
                        dbus.UInt32(0))


class Agent:
    def __init__(self, stintd, tmp, events):
        self.sock = os.path.join(tmp, "run", "control")
        self.log = os.path.join(tmp, "stintd.log")
        self.args = [stintd, "--source", "jsonl:" + events, "--journal",
                     os.path.join(tmp, "journal"), "--socket", self.sock, "--server", "",
                     "--max-age", "0", "-v"]
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "cfg"))
        self.p = None

    def start(self):
        with open(self.log, "a") as lf:
            self.p = subprocess.Popen(self.args, stdout=lf, stderr=subprocess.STDOUT, env=self.env)
        end = time.time() + 20
        while not os.path.exists(self.sock):
            if self.p.poll() is not None or time.time() > end:
                fail("stintd did not come up: " + open(self.log).read()[-2000:])
            time.sleep(0.02)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        check(rc == 0, "stintd exit %d" % rc)

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def start_collector(collector, tmp):
    """A stint-collector on a free loopback port whose only token is not ours."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    tokens = os.path.join(tmp, "tokens")
    fd = os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"some-other-token-0123456789 alice\n")
    os.close(fd)
    port_file = os.path.join(tmp, "port")
    p = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file,
                          "--tls-cert", cert, "--tls-key", key, "--data",
                          os.path.join(tmp, "data"), "--tokens", tokens],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 30
    while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
        if p.poll() is not None or time.time() > end:
            fail("stint-collector did not start")
        time.sleep(0.05)
    return p, int(open(port_file).read()), cert


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(stintctl, sock, *args):
    p = subprocess.run([stintctl, "--socket", sock] + list(args), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


FAKE_STINTD = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        got = c.recv(4096)
    except OSError:
        got = b""
    print("got %d bytes" % len(got), flush=True)
    c.close()
"""


def other_uid(bus, watcher, tray_bin, icons, tmp):
    d = tempfile.mkdtemp(prefix="stint-tray-nobody-")
    fake = tray2 = None
    try:
        os.chmod(d, 0o777)
        sock = os.path.join(d, "control")
        fake = subprocess.Popen(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c",
                                 FAKE_STINTD, sock], stdout=subprocess.PIPE,
                                start_new_session=True)
        check(fake.stdout.readline().strip() == b"ready", "the fake stintd of nobody")
        count = len(watcher.items)
        tray2 = subprocess.Popen([tray_bin, "--socket", sock, "--icons", icons],
                                 stderr=subprocess.DEVNULL)
        wait_for(lambda: any(n.startswith("org.kde.StatusNotifierItem-%d-" % tray2.pid)
                             for n, _ in watcher.items[count:]), "the second tray's item")
        sender = [snd for n, snd in watcher.items[count:]
                  if n.startswith("org.kde.StatusNotifierItem-%d-" % tray2.pid)][0]
        item2 = Item(bus, sender)
        wait_for(lambda: "permission denied" in item2.tooltip()[1], "the refusal in the tooltip")
        check(item2.icon() == "stint-stopped", "another uid's socket: icon %s" % item2.icon())
        tray2.terminate()
        tray2.wait(timeout=20)
        tray2 = None
        os.killpg(fake.pid, signal.SIGKILL)  # runuser and its python child
        out = fake.communicate(timeout=20)[0].decode()
        check("got 0 bytes" in out and "got" in out and
              all(l == "got 0 bytes" for l in out.split("\n") if l.startswith("got")),
              "the other uid's socket was sent something: %r" % out)
        print("another uid's socket: refused, nothing sent (%s)" % out.strip().replace("\n", "; "))
    finally:
        if tray2:
            tray2.kill()
        if fake and fake.poll() is None:
            os.killpg(fake.pid, signal.SIGKILL)
            fake.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    if len(sys.argv) not in (5, 6):
        fail(__doc__)
    stintd, stintctl, tray_bin, icons = sys.argv[1:5]
    collector = sys.argv[5] if len(sys.argv) == 6 and sys.argv[5] else None
    if "DBUS_SESSION_BUS_ADDRESS" not in os.environ:
        fail("run me under dbus-run-session")
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    tmp = tempfile.mkdtemp(prefix="stint-tray-")
    agent = tray = None
    try:
        events = os.path.join(tmp, "events.jsonl")
        now = int(time.time() * 1000)

        def feed(**ev):
            ev.setdefault("time", int(time.time() * 1000))
            with open(events, "a") as f:
                f.write(json.dumps(ev) + "\n")

        def items_seen():
            rc, out, err = ctl(stintctl, agent.sock, "status", "--json")
            return json.loads(out)["source"]["items"] if rc == 0 else -1

        feed(time=now - 60000, app="firefox", path="/usr/lib/firefox/firefox", title="Docs")
        agent = Agent(stintd, tmp, events)
        agent.start()
        wait_for(lambda: items_seen() == 1, "stintd read the first event")

        # The tray starts before any host exists: it must register once one appears.
        opener = os.path.join(tmp, "open-report")
        with open(opener, "w") as f:
            f.write("#!/bin/sh\ncp \"$1\" \"%s/opened.txt\"\n" % tmp)
        os.chmod(opener, 0o755)
        tlog = open(os.path.join(tmp, "tray.log"), "w")
        tray = subprocess.Popen([tray_bin, "--socket", agent.sock, "--icons", icons,
                                 "--report-open", opener, "-v"], stdout=tlog, stderr=tlog)
        pump(0.5)
        check(tray.poll() is None, "stint-tray ended: " + open(tlog.name).read())
        name = bus.request_name(WATCHER)
        check(name == dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER, "own the watcher name")
        watcher = Watcher(bus)
        wait_for(lambda: watcher.items, "stint-tray to register with the watcher")
        service, sender = watcher.items[0]
        check(service.startswith("org.kde.StatusNotifierItem-%d-" % tray.pid),
              "registered name %s" % service)
        item = Item(bus, sender)

        # recording, with the app
        wait_for(lambda: item.icon() == "stint-recording", "the recording icon")
        title, text = item.tooltip()
        check(title == "Stint: recording" and "firefox" in text, "tooltip %r %r" % (title, text))
        check(str(item.get("Status")) == "Active", "Status %s" % item.get("Status"))
        check(str(item.get("IconThemePath")) == os.path.realpath(icons), "IconThemePath")
        check(str(item.get("Id")) == "stint-tray" and str(item.get("Category")) ==
              "ApplicationStatus", "Id/Category")
        rev, menu = item.layout()
        labels = [str(p.get("label", "")).replace("_", "") for p in menu.values()]
        check("Private mode" in labels and "Send now" in labels and "Today's report" in labels
              and "Quit tray" in labels, "menu labels %s" % labels)
        pid_, pprops = item.find("Private mode")
        check(pprops.get("toggle-type") == "checkmark" and int(pprops.get("toggle-state")) == 0,
              "Private mode item %s" % pprops)
        sid, sprops = item.find("Send now")
        check(sprops.get("visible") is not None and not bool(sprops.get("visible")),
              "Send now hidden without a server: %s" % sprops)

        # Private mode from the menu
        item.click(pid_)
        wait_for(lambda: item.icon() == "stint-private", "the private icon")
        rc, out, err = ctl(stintctl, agent.sock, "status", "--json")
        st = json.loads(out)
        check(rc == 0 and st["private"] is True, "stintctl status after the click: %s" % st)
        check(int(item.find("Private mode")[1]["toggle-state"]) == 1, "check mark on")
        check(item.tooltip()[0] == "Stint: private mode", "tooltip %r" % (item.tooltip(),))
        feed(app="secret-app", path="/usr/bin/secret-app", title="Secret title",
             url="https://secret.example/")
        wait_for(lambda: items_seen() == 2, "stintd read the private-time event")

        # Today's report: the status text, handed to the opener
        rid, _ = item.find("Today's report")
        item.click(rid)
        opened = os.path.join(tmp, "opened.txt")
        wait_for(lambda: os.path.exists(opened) and os.path.getsize(opened) > 0,
                 "the report opener")
        rep = open(opened).read()
        check("\"private\": true" in rep and "secret" not in rep, "report: %s" % rep[:400])

        # A click on the icon turns it off again
        item.item.Activate(dbus.Int32(0), dbus.Int32(0))
        wait_for(lambda: item.icon() == "stint-recording", "recording again after Activate")
        check(json.loads(ctl(stintctl, agent.sock, "status", "--json")[1])["private"] is False,
              "private off after Activate")
        feed(app="xterm", path="/usr/bin/xterm", title="shell")
        wait_for(lambda: items_seen() == 3, "stintd read the last event")
        rc, out, err = ctl(stintctl, agent.sock, "pending", "--json")
        recs = [json.loads(line) for line in out.splitlines()]
        check(not any("secret" in json.dumps(r) for r in recs), "a private-time field was kept: %s"
              % recs)
        priv = [r for r in recs if r["kind"] == "KIND_PRIVATE"]
        check(len(priv) == 1 and "app" not in priv[0] and "title" not in priv[0] and
              "url" not in priv[0], "one private record with times only: %s" % recs)
        check(all(r["kind"] == "KIND_PRIVATE" or r.get("app") in ("firefox", "xterm")
                  for r in recs), "records: %s" % recs)

        # stintd stops: the icon says so within the limit, the menu offers only Quit
        n_before = len(item.signals)
        agent.stop()
        stopped_at = time.time()
        wait_for(lambda: item.icon() == "stint-stopped", "the stopped icon", timeout=10)
        sigs = [t for s, t in item.signals[n_before:] if s == "NewIcon"]
        check(sigs, "no NewIcon signal when stintd stopped")
        took = sigs[0] - stopped_at
        print("icon changed %.3f s after stintd exited" % took)
        check(took <= ICON_LIMIT, "the icon changed %.2f s after stintd stopped (limit %.1f)"
              % (took, ICON_LIMIT))
        check("not running" in item.tooltip()[0], "tooltip %r" % (item.tooltip(),))
        rev2, menu = item.layout()
        visible = [str(p.get("label", "")).replace("_", "") for p in menu.values()
                   if bool(p.get("visible", True)) and p.get("type") != "separator"]
        check(rev2 > rev, "layout revision moved: %d -> %d" % (rev, rev2))
        check("Private mode" not in visible and "Send now" not in visible and
              "Today's report" not in visible and "Quit tray" in visible,
              "menu while stopped: %s" % visible)
        item.click(pid_)  # offered nothing: does nothing, fails nothing
        pump(0.3)
        check(tray.poll() is None and item.icon() == "stint-stopped", "click while stopped")

        # stintd comes back: so does the icon, with the state it has
        agent.start()
        wait_for(lambda: item.icon() == "stint-recording", "the icon after the restart")
        check(item.tooltip()[0] == "Stint: recording", "tooltip after restart")

        # Offline: the same journal, a server on a loopback port nobody listens on. The records
        # wait, the icon says offline with how many and since when, and Send now is offered.
        agent.stop()
        wait_for(lambda: item.icon() == "stint-stopped", "stopped before the offline run")
        token = os.path.join(tmp, "token")
        with open(token, "w") as f:
            f.write("tray-test-token-0123456789\n")
        os.chmod(token, 0o600)
        base_args = list(agent.args)
        agent.args = base_args + ["--server", "https://127.0.0.1:%d" % free_port(),
                                  "--token-file", token]
        agent.start()
        wait_for(lambda: item.icon() == "stint-offline", "the offline icon")
        title, text = item.tooltip()
        check(title == "Stint: offline" and " waiting since " in text and
              text.split()[0].isdigit() and int(text.split()[0]) >= 1,
              "offline tooltip %r %r" % (title, text))
        sid, sprops = item.find("Send now")
        check(bool(sprops.get("visible", True)) and bool(sprops.get("enabled", True)),
              "Send now offered with a server: %s" % sprops)
        item.click(sid)  # flush: the sender tries at once (sending), fails, offline again
        pump(0.3)
        check(tray.poll() is None, "stint-tray ended after Send now")
        wait_for(lambda: item.icon() == "stint-offline", "offline again after Send now")

        # Blocked: a real collector that refuses the token (401 pauses sending).
        if collector and shutil.which("openssl"):
            agent.stop()
            wait_for(lambda: item.icon() == "stint-stopped", "stopped before the blocked run")
            coll = start_collector(collector, tmp)
            try:
                agent.args = base_args + ["--server", "https://127.0.0.1:%d" % coll[1],
                                          "--token-file", token, "--ca-file", coll[2]]
                agent.start()
                wait_for(lambda: item.icon() == "stint-blocked", "the blocked icon")
                title, text = item.tooltip()
                st = json.loads(ctl(stintctl, agent.sock, "status", "--json")[1])["sender"]
                check(str(item.get("Status")) == "NeedsAttention", "Status when blocked")
                check(title == "Stint: sending blocked" and st["last_error"] in text,
                      "blocked tooltip %r %r (sender %s)" % (title, text, st))
                print("blocked: %r" % text)
            finally:
                coll[0].terminate()
                coll[0].wait()

        # A new host (the panel restarted): stint-tray registers again
        count = len(watcher.items)
        bus.release_name(WATCHER)
        pump(0.2)
        bus.request_name(WATCHER)
        wait_for(lambda: len(watcher.items) > count, "registration with the new host")

        # A socket of another uid (as root: one that `nobody` listens on) is not talked to: the
        # SO_PEERCRED check refuses it before a byte is sent, and the icon says why.
        if os.geteuid() == 0:
            other_uid(bus, watcher, tray_bin, icons, tmp)

        # Quit tray
        qid, _ = item.find("Quit tray")
        item.click(qid)
        try:
            rc = tray.wait(timeout=20)
        except subprocess.TimeoutExpired:
            fail("stint-tray did not quit")
        check(rc == 0, "stint-tray exit %d" % rc)
        tray = None
        agent.stop()
        agent = None
        print("tray_host: %d checks passed" % checks)
    finally:
        if tray and tray.poll() is None:
            tray.terminate()
            tray.wait()
        if agent:
            agent.kill()
        if os.environ.get("STINT_KEEP_TMP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
