/* weft-gui.c - weft-gui: the timeline viewer, and its headless render path.
 * SPDX-License-Identifier: MIT
 *
 * weft-gui [run.db]                   the window
 * weft-gui --screenshot OUT.png [--size WxH] [--range A..B] run.db
 *                                     render the timeline into a PNG, exit
 */
#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "weft-session.h"
#include "weft-timeline.h"
#include "weft-window.h"

typedef struct {
  const char *db;
  const char *screenshot;
  int width, height;
  gboolean have_range;
  int64_t range_start, range_end;
} Options;

static void usage(FILE *f) {
  fprintf(f, "usage: weft-gui [run.db]\n"
             "       weft-gui --screenshot OUT.png [--size WxH] [--range A..B] run.db\n"
             "  --screenshot OUT.png  render the timeline into a PNG and exit (needs a display: xvfb-run)\n"
             "  --size WxH            size of the rendered timeline (default 1200x600)\n"
             "  --range A..B          visible window, times since the start (\"1.5ms..3ms\"; default all)\n");
}

/* Returns -1 on success, else the exit status. */
static int parse_args(int argc, char **argv, Options *o) {
  *o = (Options){.width = 1200, .height = 600};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("weft-gui %s\n", WEFT_VERSION);
      return 0;
    } else if (!strcmp(a, "--screenshot") || !strcmp(a, "--size") || !strcmp(a, "--range")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "weft-gui: %s needs a value\n", a);
        return 2;
      }
      val = argv[++i];
      if (!strcmp(a, "--screenshot")) {
        o->screenshot = val;
      } else if (!strcmp(a, "--size")) {
        char x;
        if (sscanf(val, "%d%c%d", &o->width, &x, &o->height) != 3 || x != 'x' || o->width < 300 ||
            o->height < 100 || o->width > 16384 || o->height > 16384) {
          fprintf(stderr, "weft-gui: --size %s: expected WxH, at least 300x100\n", val);
          return 2;
        }
      } else {
        const char *dots = strstr(val, "..");
        char *first = dots ? g_strndup(val, (gsize)(dots - val)) : NULL;
        int bad = !dots || weft_parse_time(first, &o->range_start) != 0 ||
                  weft_parse_time(dots + 2, &o->range_end) != 0 || o->range_end <= o->range_start;
        g_free(first);
        if (bad) {
          fprintf(stderr, "weft-gui: --range %s: expected A..B with A < B (\"1.5ms..3ms\")\n", val);
          return 2;
        }
        o->have_range = TRUE;
      }
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "weft-gui: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (o->db) {
      fprintf(stderr, "weft-gui: one recording at a time (%s and %s)\n", o->db, a);
      return 2;
    } else {
      o->db = a;
    }
  }
  if (o->screenshot && !o->db) {
    fprintf(stderr, "weft-gui: --screenshot needs a recording\n");
    return 2;
  }
  return -1;
}

/* ---- headless render ---- */

typedef struct {
  GtkWidget *timeline;
  const char *out;
  int width, height;
  int frames;
  int status;
  gboolean done;
} Shot;

/* Render the timeline as the next frame would show it and save it. */
static gboolean render_png(Shot *s) {
  GdkPaintable *paintable = gtk_widget_paintable_new(s->timeline);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, s->width, s->height);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  g_object_unref(paintable);
  if (!node) return FALSE;
  GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(s->timeline));
  GdkTexture *texture =
    gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, (float)s->width, (float)s->height));
  gsk_render_node_unref(node);
  gboolean ok = texture && gdk_texture_save_to_png(texture, s->out);
  g_clear_object(&texture);
  return ok;
}

static gboolean on_tick(GtkWidget *w, GdkFrameClock *clock, gpointer data) {
  Shot *s = data;
  /* wait until the window has its size and one frame has been laid out */
  if (gtk_widget_get_width(w) != s->width || gtk_widget_get_height(w) != s->height || ++s->frames < 2)
    return G_SOURCE_CONTINUE;
  if (render_png(s)) {
    s->status = 0;
  } else {
    fprintf(stderr, "weft-gui: %s: cannot write the PNG\n", s->out);
    s->status = 1;
  }
  s->done = TRUE;
  g_main_context_wakeup(NULL);
  return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data) {
  Shot *s = data;
  fprintf(stderr, "weft-gui: the window was not drawn within 30 s (no display?)\n");
  s->status = 1;
  s->done = TRUE;
  return G_SOURCE_REMOVE;
}

static int screenshot(const Options *o) {
  GError *error = NULL;
  /* open first: a bad file needs no display */
  WeftSession *session = weft_session_open(o->db, &error);
  if (!session) {
    fprintf(stderr, "weft-gui: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  /* software rendering: the same pixels on every machine, and no GL needed
   * under Xvfb (GSK_RENDERER set by the user still wins) */
  g_setenv("GSK_RENDERER", "cairo", FALSE);
  if (!gtk_init_check()) {
    fprintf(stderr, "weft-gui: cannot open a display (for --screenshot, run under xvfb-run)\n");
    weft_session_free(session);
    return 1;
  }
  Shot s = {.out = o->screenshot, .width = o->width, .height = o->height, .status = 1};
  GtkWidget *window = gtk_window_new();
  gtk_window_set_decorated(GTK_WINDOW(window), FALSE);
  gtk_window_set_default_size(GTK_WINDOW(window), o->width, o->height);
  gtk_window_set_title(GTK_WINDOW(window), weft_session_get_command(session));
  s.timeline = weft_timeline_new();
  gtk_window_set_child(GTK_WINDOW(window), s.timeline);
  weft_timeline_set_session(WEFT_TIMELINE(s.timeline), session);
  if (o->have_range) weft_timeline_set_range(WEFT_TIMELINE(s.timeline), o->range_start, o->range_end);
  gtk_widget_add_tick_callback(s.timeline, on_tick, &s, NULL);
  guint timeout = g_timeout_add_seconds(30, on_timeout, &s);
  gtk_window_present(GTK_WINDOW(window));
  while (!s.done) g_main_context_iteration(NULL, TRUE);
  if (s.status == 0 || !g_main_context_find_source_by_id(NULL, timeout)) {
    if (g_main_context_find_source_by_id(NULL, timeout)) g_source_remove(timeout);
  }
  gtk_window_destroy(GTK_WINDOW(window));
  weft_session_free(session);
  return s.status;
}

/* ---- the application ---- */

static void on_activate(GtkApplication *app, gpointer data) {
  const Options *o = data;
  WeftWindow *win = weft_window_new(app);
  gtk_window_present(GTK_WINDOW(win));
  if (o->db) weft_window_open(win, o->db);
}

int main(int argc, char **argv) {
  Options o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) return rc;
  if (o.screenshot) return screenshot(&o);

  GtkApplication *app = gtk_application_new("org.weft.Gui", G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), &o);
  /* the options are ours: GApplication sees the program name only */
  char *app_argv[] = {argv[0], NULL};
  rc = g_application_run(G_APPLICATION(app), 1, app_argv);
  g_object_unref(app);
  return rc;
}
