/* weft-window.c - the weft-gui main window.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "weft-window.h"

#include <string.h>

#include "weft-session.h"
#include "weft-timeline.h"

struct _WeftWindow {
  GtkApplicationWindow parent_instance;
  WeftTimeline *timeline;
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  WeftSession *session;
};

G_DEFINE_FINAL_TYPE(WeftWindow, weft_window, GTK_TYPE_APPLICATION_WINDOW)

static void show_error(WeftWindow *self, const char *message) {
  GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Cannot open the recording");
  gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", message);
  g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

gboolean weft_window_open(WeftWindow *self, const char *path) {
  GError *error = NULL;
  WeftSession *s = weft_session_open(path, &error);
  if (!s) {
    show_error(self, error->message);
    g_error_free(error);
    return FALSE;
  }
  weft_timeline_set_session(self->timeline, s);
  weft_session_free(self->session);
  self->session = s;
  const char *cmd = weft_session_get_command(s);
  gtk_window_set_title(GTK_WINDOW(self), cmd[0] ? cmd : path);
  gtk_label_set_label(self->title_label, cmd[0] ? cmd : path);
  char *base = g_path_get_basename(path);
  gtk_label_set_label(self->subtitle_label, base);
  g_free(base);
  gtk_widget_grab_focus(GTK_WIDGET(self->timeline));
  return TRUE;
}

static void on_open_response(GtkNativeDialog *dialog, int response, WeftWindow *self) {
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    if (path) weft_window_open(self, path);
    g_free(path);
    g_clear_object(&file);
  }
  g_object_unref(dialog);
}

static void action_open(GtkWidget *w, const char *name, GVariant *param) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Open a recording", GTK_WINDOW(w),
                                                        GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "weft recordings (*.db)");
  gtk_file_filter_add_pattern(f, "*.db");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_open_response), w);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* win.zoom-in etc. forward to the timeline's own actions */
static void action_forward(GtkWidget *w, const char *name, GVariant *param) {
  WeftWindow *self = WEFT_WINDOW(w);
  char *target = g_strconcat("timeline.", name + strlen("win."), NULL);
  gtk_widget_activate_action(GTK_WIDGET(self->timeline), target, NULL);
  g_free(target);
}

static void weft_window_dispose(GObject *object) {
  WeftWindow *self = WEFT_WINDOW(object);
  gtk_widget_dispose_template(GTK_WIDGET(self), WEFT_TYPE_WINDOW);
  G_OBJECT_CLASS(weft_window_parent_class)->dispose(object);
}

static void weft_window_finalize(GObject *object) {
  WeftWindow *self = WEFT_WINDOW(object);
  weft_session_free(self->session);
  G_OBJECT_CLASS(weft_window_parent_class)->finalize(object);
}

static void weft_window_class_init(WeftWindowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = weft_window_dispose;
  object_class->finalize = weft_window_finalize;
  g_type_ensure(WEFT_TYPE_TIMELINE);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/weft/Gui/weft-window.ui");
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, timeline);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, title_label);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, subtitle_label);
  gtk_widget_class_install_action(widget_class, "win.open", NULL, action_open);
  gtk_widget_class_install_action(widget_class, "win.zoom-in", NULL, action_forward);
  gtk_widget_class_install_action(widget_class, "win.zoom-out", NULL, action_forward);
  gtk_widget_class_install_action(widget_class, "win.fit", NULL, action_forward);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
}

static void weft_window_init(WeftWindow *self) { gtk_widget_init_template(GTK_WIDGET(self)); }

WeftWindow *weft_window_new(GtkApplication *app) {
  return g_object_new(WEFT_TYPE_WINDOW, "application", app, NULL);
}
