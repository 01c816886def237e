// Stint focus — a GNOME Shell extension (45 and later) that tells stintd what is in focus.
//
// GNOME's compositor keeps its windows to itself: a Wayland client cannot see them, and an X11
// client sees only Xwayland's. Code inside GNOME Shell can, so this extension publishes the
// focused window on the session D-Bus and stintd's `gnome` source (agent/source_gnome.c) reads
// it. The contract, in full in spec/AGENT.md ("Desktop helpers"):
//
//   name org.stint.Desktop, object /org/stint/Desktop, interface org.stint.Desktop1
//     GetFocus() -> (s app_id, s title, u pid)    "" and 0 when nothing is focused
//     GetIdletime() -> (t ms)                      Mutter's core idle monitor: ms since input
//     signal FocusChanged(s app_id, s title, u pid)  on every focus change and title change
//
// app_id is the window's WM class, which on Wayland is the client's xdg app_id (what sway's
// tree and stintd's wayland source call app_id) and on Xwayland the X11 class (what the x11
// source reports). Event-driven: focus-window and the focused window's title are watched; no
// timer runs. Everything stays on the session bus of the user's own session.
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

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

export default class StintFocusExtension extends Extension {
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

    // [app_id, title, pid] of the focused window
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
        this._dbus?.emit_signal('FocusChanged', new GLib.Variant('(ssu)', this._focus()));
    }

    // D-Bus methods (wrapJSObject: several out arguments are returned as an array)
    GetFocus() {
        return this._focus();
    }

    GetIdletime() {
        return global.backend.get_core_idle_monitor().get_idletime();
    }
}
