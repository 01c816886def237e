// Stint focus — the GNOME Shell extension for GNOME 42 to 44 (Debian 12, Ubuntu 22.04), in the
// extension format those versions load (imports.gi, init()). GNOME 45 and later load ES modules
// only: desktop/gnome/ is the same extension in that format. Both publish the same thing, the
// contract of spec/AGENT.md ("Desktop helpers"):
//
//   name org.stint.Desktop, object /org/stint/Desktop, interface org.stint.Desktop1
//     GetFocus() -> (s app_id, s title, u pid)    "" and 0 when nothing is focused
//     GetIdletime() -> (t ms)                      Mutter's core idle monitor: ms since input
//     signal FocusChanged(s app_id, s title, u pid)  on every focus change and title change
//
// app_id is the window's WM class: the xdg app_id of a Wayland client, the X11 class of an
// Xwayland one. Event-driven: focus-window and the focused window's title are watched.
const {Gio, GLib} = imports.gi;

const IFACE = `<node>
  <interface name="org.stint.Desktop1">
    <method name="GetFocus">
      <arg type="s" direction="out" name="app_id"/>
      <arg type="s" direction="out" name="title"/>
      <arg type="u" direction="out" name="pid"/>
    </method>
    <method name="GetIdletime">
      <arg type="t" direction="out" name="ms"/>
    </method>
    <signal name="FocusChanged">
      <arg type="s" name="app_id"/>
      <arg type="s" name="title"/>
      <arg type="u" name="pid"/>
    </signal>
  </interface>
</node>`;

class StintFocus {
    enable() {
        this._window = null;
        this._titleId = 0;
        this._dbus = Gio.DBusExportedObject.wrapJSObject(IFACE, this);
        this._dbus.export(Gio.DBus.session, '/org/stint/Desktop');
        this._nameId = Gio.bus_own_name_on_connection(Gio.DBus.session, 'org.stint.Desktop',
            Gio.BusNameOwnerFlags.NONE, null, null);
        this._focusId = global.display.connect('notify::focus-window', () => this._follow());
        this._follow();
    }

    disable() {
        global.display.disconnect(this._focusId);
        this._focusId = 0;
        this._unwatch();
        Gio.bus_unown_name(this._nameId);
        this._nameId = 0;
        this._dbus.unexport();
        this._dbus = null;
    }

    _focus() {
        const w = global.display.focus_window;
        if (!w)
            return ['', '', 0];
        const pid = w.get_pid();
        return [w.get_wm_class() || '', w.get_title() || '', pid > 0 ? pid : 0];
    }

    _follow() {
        this._unwatch();
        this._window = global.display.focus_window;
        if (this._window)
            this._titleId = this._window.connect('notify::title', () => this._emit());
        this._emit();
    }

    _unwatch() {
        if (this._window && this._titleId)
            this._window.disconnect(this._titleId);
        this._window = null;
        this._titleId = 0;
    }

    _emit() {
        if (this._dbus)
            this._dbus.emit_signal('FocusChanged', new GLib.Variant('(ssu)', this._focus()));
    }

    GetFocus() {
        return this._focus();
    }

    GetIdletime() {
        return global.backend.get_core_idle_monitor().get_idletime();
    }
}

function init() {
    return new StintFocus();
}
