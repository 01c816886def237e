// Stint focus — a KWin script (Plasma 5.27 and 6) that tells stintd what is in focus.
//
// KWin keeps its windows to itself on Wayland, and a KWin script cannot own a D-Bus name; it
// can call methods. So it pushes the focused window to stintd's `gnome` source, which owns
// org.stint.Agent and serves /org/stint/Desktop, org.stint.Desktop1 (spec/AGENT.md, "Desktop
// helpers"):
//     Update(s app_id, s title, s pid)    pid in decimal, "0" when unknown
// on every activation and every title change of the active window. The pid goes as text
// because a script's numbers have no fixed D-Bus type. Event-driven: no timer runs.
// app_id: the desktop file name when KWin knows it, else the resource class (X11 WM_CLASS or
// the Wayland app_id).
var watched = null;

function send(w) {
    var app = "", title = "", pid = "0";
    if (w) {
        app = String(w.desktopFileName || w.resourceClass || "");
        title = String(w.caption || "");
        pid = String(w.pid > 0 ? w.pid : 0);
    }
    callDBus("org.stint.Agent", "/org/stint/Desktop", "org.stint.Desktop1", "Update", app,
             title, pid);
}

function onCaption() {
    send(watched);
}

function follow(w) {
    if (watched && watched.captionChanged)
        watched.captionChanged.disconnect(onCaption);
    watched = w || null;
    if (watched && watched.captionChanged)
        watched.captionChanged.connect(onCaption);
    send(watched);
}

if (workspace.windowActivated) { // Plasma 6
    workspace.windowActivated.connect(follow);
    follow(workspace.activeWindow);
} else { // Plasma 5
    workspace.clientActivated.connect(follow);
    follow(workspace.activeClient);
}
