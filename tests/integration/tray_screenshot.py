#!/usr/bin/python3
"""tray_screenshot.py — stint-tray in a real tray host, on screen, kept as images.

    tray_screenshot.py STINTD STINTCTL STINT-TRAY ICONS-DIR OUT-DIR

The host is waybar's tray module (a StatusNotifierItem host, Debian's `waybar`) on a headless
sway (wlroots' headless backend with the pixman renderer: no GPU, no X), and grim takes the
screenshots (wlr-screencopy). A private session bus (dbus-run-session) holds waybar's watcher
and stint-tray's item; stintd runs on a JSONL file. The test looks at the pixels of the tray's
corner, not just at D-Bus: the host must have drawn our stopped icon (grey), then the recording
icon (green) once stintd runs, then the private icon (purple) after `stintctl private on`.
Each state is kept as OUT-DIR/tray-STATE.png (the test's artefacts).

Tried and not used: XEmbed-only trays (trayer, tint2, stalonetray) cannot show a
StatusNotifierItem without a bridge, and Debian 12 packages none (no snixembed); xfce4-panel,
whose systray hosts SNI too, was not tried once waybar worked. sway refuses to run as root, so
as root the test runs itself as `nobody` with copies of the binaries in a folder of its own.
Exit 77 (a ctest skip, with the reason) when sway, waybar, grim or dbus-run-session is missing.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

COLORS = {"stopped": (0x8a, 0x8a, 0x8a), "recording": (0x2e, 0x9e, 0x4f),
          "private": (0x6b, 0x4f, 0xa8)}


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def read_ppm(path):
    data = open(path, "rb").read()
    # P6\n<w> <h>\n<max>\n<bytes>; grim writes exactly this header
    parts = data.split(b"\n", 3)
    if parts[0] != b"P6":
        fail("grim did not write a PPM: %r" % data[:20])
    w, h = (int(x) for x in parts[1].split())
    return w, h, parts[3]


def corner_has(path, rgb, bar_h=30, width=160):
    """True when the top-right corner (the tray) holds pixels near rgb."""
    w, h, px = read_ppm(path)
    hits = 0
    for y in range(min(bar_h, h)):
        row = y * w * 3
        for x in range(max(0, w - width), w):
            r, g, b = px[row + 3 * x:row + 3 * x + 3]
            if abs(r - rgb[0]) < 12 and abs(g - rgb[1]) < 12 and abs(b - rgb[2]) < 12:
                hits += 1
    return hits >= 20


def inner(stintd, stintctl, tray, icons, out):
    tmp = os.environ["STINT_SHOT_TMP"]
    run = os.path.join(tmp, "xdg")
    os.makedirs(run, mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, WLR_BACKENDS="headless",
               WLR_RENDERER="pixman", WLR_LIBINPUT_NO_DEVICES="1", HOME=tmp)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    procs = []

    def start(args, log, e=env):
        procs.append(subprocess.Popen(args, env=e, stdout=open(os.path.join(tmp, log), "w"),
                                      stderr=subprocess.STDOUT))
        return procs[-1]

    def wait_for(pred, what, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if pred():
                return
            time.sleep(0.1)
        logs = "".join("\n--- %s\n%s" % (n, open(os.path.join(tmp, n)).read()[-1500:])
                       for n in ("sway.log", "waybar.log", "tray.log", "stintd.log")
                       if os.path.exists(os.path.join(tmp, n)))
        fail("timed out waiting for %s%s" % (what, logs))

    try:
        with open(os.path.join(tmp, "sway.conf"), "w") as f:
            f.write("output HEADLESS-1 resolution 640x120\n")
        with open(os.path.join(tmp, "waybar.json"), "w") as f:
            json.dump({"layer": "top", "position": "top", "height": 30, "modules-left": [],
                       "modules-right": ["tray"], "tray": {"icon-size": 22, "spacing": 8}}, f)
        with open(os.path.join(tmp, "waybar.css"), "w") as f:
            f.write("* { font-family: sans-serif; font-size: 12px; }\n"
                    "window#waybar { background: #303030; }\n")
        start(["sway", "-c", os.path.join(tmp, "sway.conf")], "sway.log")
        wait_for(lambda: any(n.startswith("wayland-") and not n.endswith(".lock")
                             for n in os.listdir(run)), "sway's Wayland socket")
        env["WAYLAND_DISPLAY"] = sorted(n for n in os.listdir(run)
                                        if n.startswith("wayland-") and
                                        not n.endswith(".lock"))[0]
        start(["waybar", "-c", os.path.join(tmp, "waybar.json"), "-s",
               os.path.join(tmp, "waybar.css")], "waybar.log")
        sock = os.path.join(tmp, "agent", "control")
        start([tray, "--socket", sock, "--icons", icons, "-v"], "tray.log")
        ppm = os.path.join(tmp, "shot.ppm")

        def shot_shows(state):
            r = subprocess.run(["grim", "-t", "ppm", ppm], env=env, capture_output=True)
            return r.returncode == 0 and corner_has(ppm, COLORS[state])

        def keep(state):
            subprocess.run(["grim", os.path.join(out, "tray-%s.png" % state)], env=env,
                           check=True, timeout=30)
            print("kept %s" % os.path.join(out, "tray-%s.png" % state))

        wait_for(lambda: shot_shows("stopped"), "waybar to draw the stopped icon")
        keep("stopped")
        events = os.path.join(tmp, "events.jsonl")
        with open(events, "w") as f:
            f.write(json.dumps({"time": int(time.time() * 1000), "app": "firefox",
                                "title": "Stint docs"}) + "\n")
        start([stintd, "--source", "jsonl:" + events, "--journal", os.path.join(tmp, "journal"),
               "--socket", sock, "--server", "", "--max-age", "0"], "stintd.log",
              dict(env, XDG_CONFIG_HOME=os.path.join(tmp, "cfg")))
        wait_for(lambda: shot_shows("recording"), "the recording icon on screen")
        keep("recording")
        r = subprocess.run([stintctl, "--socket", sock, "private", "on"], capture_output=True,
                           env=env, timeout=60)
        if r.returncode != 0:
            fail("stintctl private on: %s" % r.stderr.decode())
        wait_for(lambda: shot_shows("private"), "the private icon on screen")
        keep("private")
        print("tray_screenshot: waybar (SNI host) on headless sway drew stopped, recording, "
              "private")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    stintd, stintctl, tray, icons, out = (os.path.abspath(a) for a in sys.argv[1:])
    if os.environ.get("STINT_SHOT_TMP"):
        inner(stintd, stintctl, tray, icons, out)
        return
    missing = [b for b in ("sway", "waybar", "grim", "dbus-run-session") if not shutil.which(b)]
    if missing:
        print("SKIP: no %s here (Debian: sway waybar grim dbus-daemon): no tray host to "
              "screenshot" % ", ".join(missing))
        raise SystemExit(77)
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="stint-shot-")
    try:
        # Copies in a folder of our own, so `nobody` can run them wherever the tree is.
        for src in (stintd, stintctl, tray):
            shutil.copy2(src, tmp)
        shutil.copytree(icons, os.path.join(tmp, "icons"))
        shots = os.path.join(tmp, "shots")
        os.makedirs(shots)
        args = [sys.executable, os.path.abspath(__file__)] + \
               [os.path.join(tmp, os.path.basename(b)) for b in (stintd, stintctl, tray)] + \
               [os.path.join(tmp, "icons"), shots]
        env = dict(os.environ, STINT_SHOT_TMP=tmp)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        prefix = ["dbus-run-session", "--"]
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chmod(tmp, 0o755)
            for root, dirs, files in os.walk(tmp):
                os.chown(root, nobody.pw_uid, nobody.pw_gid)
                for n in files:
                    os.chown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
            prefix = ["runuser", "-u", "nobody", "--", "env", "HOME=" + tmp] + prefix
        r = subprocess.run(prefix + args, env=env, timeout=300)
        for n in sorted(os.listdir(shots)):
            shutil.copy(os.path.join(shots, n), os.path.join(out, n))
        if r.returncode != 0:
            raise SystemExit(r.returncode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
